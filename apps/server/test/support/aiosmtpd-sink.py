"""A second, independent SMTP server (aiosmtpd) that prints every message it receives as one JSON line.

Usage: python3 aiosmtpd-sink.py  -> prints {"port": N} once listening, then {"from", "to", "data_base64"} per message.
"""
import asyncio, base64, json, socket, sys
from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data_base64": base64.b64encode(envelope.original_content or envelope.content).decode(),
        }), flush=True)
        return "250 2.0.0 Accepted by the sink"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


port = free_port()
controller = Controller(Sink(), hostname="127.0.0.1", port=port, decode_data=False)
controller.start()
print(json.dumps({"port": port}), flush=True)
try:
    sys.stdin.read()  # runs until the test closes stdin
finally:
    controller.stop()
