"""A real POP3 client for the tests: Python's poplib runs a script of commands, prints JSON.

usage: pop3-client.py MODE HOST PORT COMMANDS_JSON
MODE: plain | stls | pop3s. COMMANDS_JSON: a list of [name, *args], e.g. [["user", "u"], ["pass_", "p"],
["stat"], ["retr", 1]]. Each result is {"ok": ...} or {"error": "..."}; bytes are base64.
Certificates are not verified (the app's self-signed one).
"""
import base64
import json
import poplib
import ssl
import sys

mode, host, port, commands = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE


def encode(value):
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return value


output = {"welcome": None, "results": [], "cipher": None}
try:
    client = poplib.POP3_SSL(host, port, context=context, timeout=30) if mode == "pop3s" else poplib.POP3(host, port, timeout=30)
    output["welcome"] = client.getwelcome().decode()
    if mode == "stls":
        client.stls(context=context)
    if mode != "plain":
        output["cipher"] = client.sock.cipher()[0]
    for name, *args in commands:
        try:
            result = getattr(client, name)(*args)
            if name in ("retr", "top"):
                # poplib undoes the byte-stuffing and drops line endings; CRLF puts them back.
                response, lines, _octets = result
                result = [response, b"".join(line + b"\r\n" for line in lines)]
            output["results"].append({"ok": encode(result)})
        except poplib.error_proto as error:
            output["results"].append({"error": str(error.args[0].decode() if isinstance(error.args[0], bytes) else error.args[0])})
        except (EOFError, OSError) as error:
            output["results"].append({"error": f"connection: {error!r}"})
            break
except Exception as error:  # noqa: BLE001 - the test reads the failure
    output["failure"] = repr(error)
print(json.dumps(output))
