#!/usr/bin/env python3
"""A real softphone for Hotline's end-to-end media tests, on PJSIP's pjsua2 (pjsua2-python).

One process is one phone: an agent's softphone that registers and answers, or a caller that
dials. It plays a WAV file into its call (or nothing), records what it hears to a WAV file,
sends RFC 4733 digits, holds and resumes, and hangs up on a schedule; everything it saw goes
into a JSON result file the Rust test reads. Audio runs on PJSIP's null sound device, and the
library is polled from this one thread (no PJSIP worker threads), as the bindings require.

It must never decide whether a test passed: it reports what happened, the test judges.

Schedule times are milliseconds after the call is confirmed (answered).
"""

import argparse
import gc
import json
import os
import sys
import time

import pjsua2 as pj

events = []


def note(kind, **fields):
    fields["event"] = kind
    fields["at_ms"] = round((time.monotonic() - START) * 1000)
    events.append(fields)


START = time.monotonic()


class Phone(pj.Account):
    def __init__(self, args):
        super().__init__()
        self.args = args
        self.calls = []

    def onRegState(self, prm):
        info = self.getInfo()
        note("registration", code=prm.code, active=info.regIsActive)
        if prm.code == 200 and info.regIsActive and self.args.ready_file:
            with open(self.args.ready_file, "w") as ready:
                ready.write("registered\n")

    def onIncomingCall(self, prm):
        call = Leg(self, self.args, prm.callId)
        self.calls.append(call)
        note("incoming", remote=call.getInfo().remoteUri)
        ring = pj.CallOpParam()
        ring.statusCode = 180
        call.answer(ring)
        call.answer_due = time.monotonic() + self.args.answer_after / 1000.0


class Leg(pj.Call):
    def __init__(self, account, args, call_id=pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.args = args
        self.answer_due = None
        self.confirmed_at = None
        self.player = None
        self.recorder = None
        self.done = set()
        self.disconnected = False

    def onCallState(self, prm):
        info = self.getInfo()
        note("state", state=info.stateText, code=info.lastStatusCode, reason=info.lastReason)
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and self.confirmed_at is None:
            self.confirmed_at = time.monotonic()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.disconnected = True

    def onCallMediaState(self, prm):
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            note("media", status=int(media.status), direction=int(media.dir))
            if media.status not in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
                continue
            # A re-INVITE (hold, resume) gives the call a new conference port: connect the
            # player and the recorder to it every time.
            audio = self.getAudioMedia(index)
            if self.args.record:
                if self.recorder is None:
                    self.recorder = pj.AudioMediaRecorder()
                    self.recorder.createRecorder(self.args.record)
                audio.startTransmit(self.recorder)
            if self.args.play:
                if self.player is None:
                    self.player = pj.AudioMediaPlayer()
                    self.player.createPlayer(self.args.play)  # loops by default
                self.player.startTransmit(audio)
        try:
            stream = self.getStreamInfo(0)
            note("codec", name=stream.codecName, rate=stream.codecClockRate)
        except pj.Error:
            pass

    def onDtmfDigit(self, prm):
        note("dtmf", digit=prm.digit, method=int(prm.method))

    def tick(self):
        """Run whatever the schedule says is due."""
        now = time.monotonic()
        if self.answer_due is not None and now >= self.answer_due:
            self.answer_due = None
            ok = pj.CallOpParam()
            ok.statusCode = 200
            self.answer(ok)
        if self.confirmed_at is None or self.disconnected:
            return
        since = (now - self.confirmed_at) * 1000
        args = self.args
        if args.dtmf and "dtmf" not in self.done and since >= args.dtmf_after:
            self.done.add("dtmf")
            self.dialDtmf(args.dtmf)
            note("dtmf_sent", digits=args.dtmf)
        if args.hold_after is not None and "hold" not in self.done and since >= args.hold_after:
            self.done.add("hold")
            self.setHold(pj.CallOpParam(True))
            note("hold_sent")
        if (
            args.resume_after is not None
            and "resume" not in self.done
            and since >= args.resume_after
        ):
            self.done.add("resume")
            resume = pj.CallOpParam(True)
            resume.opt.flag = pj.PJSUA_CALL_UNHOLD
            self.reinvite(resume)
            note("resume_sent")
        if args.hangup_after is not None and "hangup" not in self.done and since >= args.hangup_after:
            self.done.add("hangup")
            self.hangup(pj.CallOpParam(True))
            note("hangup_sent")

    def close_media(self):
        # The recorder writes its WAV header when destroyed: do it before the library goes.
        self.recorder = None
        self.player = None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="local SIP port (UDP)")
    parser.add_argument("--rtp-port", type=int, default=0, help="first local RTP port")
    parser.add_argument("--register", help="AOR to register, sip:user@domain")
    parser.add_argument("--password")
    parser.add_argument("--registrar", help="host:port of the registrar")
    parser.add_argument("--call", help="URI to call, e.g. sip:+421...@127.0.0.1:5060")
    parser.add_argument("--from-uri", default="sip:+421900000001@127.0.0.1")
    parser.add_argument("--answer-after", type=int, default=0)
    parser.add_argument("--play", help="WAV file to send, looped")
    parser.add_argument("--record", help="WAV file to write what is heard into")
    parser.add_argument("--dtmf", help="digits to send (RFC 4733)")
    parser.add_argument("--dtmf-after", type=int, default=500)
    parser.add_argument("--hold-after", type=int)
    parser.add_argument("--resume-after", type=int)
    parser.add_argument("--hangup-after", type=int)
    parser.add_argument("--codec", choices=["PCMU", "PCMA"], help="offer only this codec")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds before giving up")
    parser.add_argument("--ready-file", help="written once registered (agents) or started")
    parser.add_argument("--result", required=True, help="JSON file with what happened")
    args = parser.parse_args()

    endpoint = pj.Endpoint()
    endpoint.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 0
    config.uaConfig.mainThreadOnly = True
    config.uaConfig.userAgent = "hotline-test-softphone"
    config.logConfig.level = 1
    config.logConfig.consoleLevel = 1
    # 8 kHz through the conference bridge, so what is recorded is what the call carried.
    config.medConfig.clockRate = 8000
    config.medConfig.sndClockRate = 8000
    config.medConfig.noVad = True
    config.medConfig.ecTailLen = 0
    endpoint.libInit(config)
    transport = pj.TransportConfig()
    transport.port = args.port
    transport.boundAddress = "127.0.0.1"
    endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    endpoint.libStart()
    endpoint.audDevManager().setNullDev()
    codecs = {"PCMU": "PCMU/8000", "PCMA": "PCMA/8000"}
    for info in endpoint.codecEnum2():
        wanted = info.codecId.startswith("telephone-event") or (
            codecs.get(args.codec, "PCM") in info.codecId
            if args.codec
            else info.codecId.startswith(("PCMU/8000", "PCMA/8000"))
        )
        endpoint.codecSetPriority(info.codecId, 200 if wanted else 0)

    account_config = pj.AccountConfig()
    account_config.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    if args.rtp_port:
        account_config.mediaConfig.transportConfig.port = args.rtp_port
    if args.register:
        account_config.idUri = args.register
        account_config.regConfig.registrarUri = "sip:" + args.registrar
        account_config.regConfig.timeoutSec = 300
        user = args.register.split(":", 1)[1].split("@", 1)[0]
        realm = args.register.split("@", 1)[1]
        account_config.sipConfig.authCreds.append(
            pj.AuthCredInfo("digest", realm, user, 0, args.password)
        )
    else:
        account_config.idUri = args.from_uri
    phone = Phone(args)
    phone.create(account_config)
    if not args.register and args.ready_file:
        with open(args.ready_file, "w") as ready:
            ready.write("started\n")

    if args.call:
        phone.calls.append(Leg(phone, args))
        phone.calls[0].makeCall(args.call, pj.CallOpParam(True))
        note("calling", uri=args.call)

    deadline = time.monotonic() + args.duration
    called_and_over = False
    while time.monotonic() < deadline and not called_and_over:
        endpoint.libHandleEvents(10)
        for call in phone.calls:
            call.tick()
        # A caller is finished when its call is; an agent runs until its duration or its call.
        called_and_over = bool(phone.calls) and all(call.disconnected for call in phone.calls)
    for call in phone.calls:
        if not call.disconnected:
            note("still_up_at_deadline")
            call.hangup(pj.CallOpParam(True))
    for _ in range(50):
        endpoint.libHandleEvents(10)
    for call in phone.calls:
        call.close_media()
    # Every Call object must be gone before the library is (pjsua2 asserts otherwise), so no
    # name may still refer to one here.
    call = None
    phone.calls = []
    gc.collect()
    phone.shutdown()
    endpoint.libDestroy()
    with open(args.result, "w") as out:
        json.dump({"events": events}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
