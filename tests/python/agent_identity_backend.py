"""A stand-in for the two ChatGPT endpoints an access-token login talks to
(`codex login --with-access-token`, `codex login status`), on 127.0.0.1:

  GET  <any>/agent-identities/jwks          the keys that sign Agent Identity JWTs
  POST /v1/agent/<runtime>/task/register    {"timestamp", "signature"}: the
       signature must be the agent's Ed25519 signature of "<runtime>:<timestamp>"
       with the key its token carries; answers {"task_id": ...}, else 401

and, for the tests only:

  POST /test/mint     a JSON object of claims to add or replace (null removes
                      one) -> {"token", "claims"}; `"_sign_with": "foreign"` signs with a key the JWKS
                      does not have, `"_kid": "..."` sets the header's kid
  GET  /test/requests every request so far, as JSON lines
  POST /test/revoke   {"agent_runtime_id": ...}: its registrations get 401

Prints {"port": N} on its first line once listening. Stops when stdin closes.
"""

import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import RSAAlgorithm

SIGNING = rsa.generate_private_key(public_exponent=65537, key_size=2048)
FOREIGN = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "stand-in-1"
JWK = json.loads(RSAAlgorithm.to_jwk(SIGNING.public_key()))
JWK.update({"kid": KID, "alg": "RS256", "use": "sig"})

AGENT_KEYS = {}  # runtime id -> Ed25519 public key
REVOKED = set()
REQUESTS = []
LOCK = threading.Lock()
SERIAL = [0]


def mint(overrides):
    with LOCK:
        SERIAL[0] += 1
        serial = SERIAL[0]
    agent = ed25519.Ed25519PrivateKey.generate()
    private_key = base64.b64encode(
        agent.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    ).decode()
    now = int(time.time())
    claims = {
        "iss": "https://chatgpt.com/codex-backend/agent-identity",
        "aud": "codex-app-server",
        "iat": now,
        "exp": now + 3600,
        "agent_runtime_id": "agent-runtime-%d" % serial,
        "agent_private_key": private_key,
        "account_id": "account-%d" % serial,
        "chatgpt_user_id": "user-%d" % serial,
        "email": "agent%d@example.com" % serial,
        "plan_type": "plus",
        "chatgpt_account_is_fedramp": False,
    }
    key = FOREIGN if overrides.pop("_sign_with", None) == "foreign" else SIGNING
    kid = overrides.pop("_kid", KID)
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    with LOCK:
        AGENT_KEYS[claims.get("agent_runtime_id")] = agent.public_key()
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid}), claims


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, body):
        with LOCK:
            REQUESTS.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "originator": self.headers.get("originator"),
                    "body": body.decode("utf-8", "replace"),
                }
            )

    def do_GET(self):
        self.record(b"")
        if self.path == "/test/requests":
            with LOCK:
                return self.reply(200, REQUESTS)
        if self.path.endswith("/agent-identities/jwks"):
            return self.reply(200, {"keys": [JWK]})
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/test/mint":
            token, claims = mint(json.loads(body or b"{}"))
            return self.reply(200, {"token": token, "claims": claims})
        if self.path == "/test/revoke":
            with LOCK:
                REVOKED.add(json.loads(body)["agent_runtime_id"])
            return self.reply(200, {})
        self.record(body)
        parts = self.path.strip("/").split("/")
        if len(parts) == 5 and parts[:2] == ["v1", "agent"] and parts[3:] == ["task", "register"]:
            runtime = parts[2]
            request = json.loads(body)
            with LOCK:
                key = AGENT_KEYS.get(runtime)
                revoked = runtime in REVOKED
            if key is None or revoked:
                return self.reply(401, {"error": {"message": "unknown or revoked agent"}})
            message = ("%s:%s" % (runtime, request["timestamp"])).encode()
            try:
                key.verify(base64.b64decode(request["signature"]), message)
            except Exception:
                return self.reply(401, {"error": {"message": "bad signature"}})
            return self.reply(200, {"task_id": "task-for-" + runtime})
        self.reply(404, {"error": "not found"})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
