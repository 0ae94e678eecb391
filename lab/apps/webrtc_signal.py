#!/usr/bin/env python3
"""Signalling server and pages for the lab's WebRTC calls (voip program `webrtc`).

Serves caller.html and callee.html and relays one offer and one answer per call
over plain HTTP: the caller POSTs its offer (ICE gathering complete, so no
trickle), the callee polls for it and POSTs the answer, which the caller polls.
Usage: webrtc_signal.py ADDR PORT
"""
import http.server
import sys
import threading

STATE = {"offer": None, "answer": None}
LOCK = threading.Lock()

PAGE = """<!doctype html><html><body><script>
const role = "%s";
const q = new URLSearchParams(location.search);
const codec = q.get("codec") || "opus", ptime = q.get("ptime") || "20", dtx = q.get("dtx") === "1";
const callMs = 1000 * Number(q.get("call") || "30");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function poll(path) {
  for (;;) {
    const r = await fetch(path, {cache: "no-store"});
    if (r.status === 200) return await r.text();
    await sleep(300);
  }
}
function munge(sdp) {
  // Only the candidate of the page's own address (the condition's), no other path.
  const ip = q.get("ip");
  if (ip) sdp = sdp.split("\\r\\n").filter((l) => !l.startsWith("a=candidate:") || l.split(" ")[4] === ip).join("\\r\\n");
  // Packetisation and discontinuous transmission are SDP parameters.
  sdp = sdp.replace(/a=ptime:\\d+\\r\\n/g, "").replace(/(m=audio[^\\r]*\\r\\n)/, "$1a=ptime:" + ptime + "\\r\\na=maxptime:" + ptime + "\\r\\n");
  if (dtx) sdp = sdp.replace(/(a=fmtp:\\d+ minptime=\\d+;useinbandfec=1)/, "$1;usedtx=1");
  return sdp;
}
async function gathered(pc) {
  if (pc.iceGatheringState === "complete") return;
  await new Promise((r) => pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && r()));
}
async function main() {
  const stream = await navigator.mediaDevices.getUserMedia({audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  const pc = new RTCPeerConnection({iceServers: []});
  const track = stream.getAudioTracks()[0];
  const want = {opus: "audio/opus", pcmu: "audio/PCMU", pcma: "audio/PCMA", g722: "audio/G722"}[codec];
  const caps = RTCRtpSender.getCapabilities("audio").codecs;
  const prefer = (tr) => tr.setCodecPreferences(caps.filter((c) => c.mimeType === want).concat(caps.filter((c) => c.mimeType !== want)));
  if (role === "caller") {
    prefer(pc.addTransceiver(track, {direction: "sendrecv"}));
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    await fetch("/offer", {method: "POST", body: munge(pc.localDescription.sdp)});
    await pc.setRemoteDescription({type: "answer", sdp: munge(await poll("/answer"))});
    await sleep(callMs);
    pc.close();
    await fetch("/hangup", {method: "POST", body: ""});
  } else {
    await pc.setRemoteDescription({type: "offer", sdp: await poll("/offer")});
    // The offer made the transceiver: the callee's microphone goes on it.
    const tr = pc.getTransceivers()[0];
    tr.direction = "sendrecv";
    await tr.sender.replaceTrack(track);
    prefer(tr);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    await fetch("/answer", {method: "POST", body: munge(pc.localDescription.sdp)});
    await new Promise((r) => pc.addEventListener("connectionstatechange", () => ["closed", "failed", "disconnected"].includes(pc.connectionState) && r()));
    pc.close();
  }
  document.title = "done";
  // The callee waits for the next call; the caller's browser is closed by the app.
  if (role === "callee") location.reload();
}
main();
</script></body></html>"""


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\\n" % (self.address_string(), fmt % args))

    def reply(self, code, body=b"", ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path in ("/caller.html", "/callee.html"):
            self.reply(200, (PAGE % path[1:-5]).encode(), "text/html")
        elif path in ("/offer", "/answer"):
            with LOCK:
                sdp = STATE[path[1:]]
                if sdp is not None:
                    STATE[path[1:]] = None
            self.reply(200, sdp.encode()) if sdp is not None else self.reply(204)
        else:
            self.reply(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        path = self.path.split("?")[0]
        with LOCK:
            if path == "/offer":
                STATE["offer"], STATE["answer"] = body, None
            elif path == "/answer":
                STATE["answer"] = body
            elif path == "/hangup":
                STATE["offer"] = STATE["answer"] = None
        self.reply(200)


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    http.server.ThreadingHTTPServer((addr, port), Handler).serve_forever()


if __name__ == "__main__":
    main()
