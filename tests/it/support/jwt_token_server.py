"""A token endpoint for RFC 7523 client assertions, verifying them with PyJWT (not the gateway's JWT library).

Usage: jwt_token_server.py ALGORITHM KEY ISSUER
  ALGORITHM  HS256 | RS256
  KEY        the HMAC secret, or the path of the RSA private key in PEM (its public half verifies)
  ISSUER     the `iss` the assertion must carry

Listens on 127.0.0.1 on a free port and prints `listening PORT`. Each token request prints one JSON line
(`{"accepted": true, "header": ..., "claims": ...}` or `{"accepted": false, "error": ...}`) and answers a token or 401.
"""
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
from cryptography.hazmat.primitives import serialization

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
algorithm, key_arg, issuer = sys.argv[1:4]
if algorithm == "RS256":
    with open(key_arg, "rb") as pem:
        verifying_key = serialization.load_pem_private_key(pem.read(), password=None).public_key()
else:
    verifying_key = key_arg
issued = 0


class TokenEndpoint(BaseHTTPRequestHandler):
    def do_POST(self):
        global issued
        length = int(self.headers.get("content-length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        audience = f"http://127.0.0.1:{self.server.server_port}/token"
        try:
            if form.get("grant_type") != ["client_credentials"]:
                raise ValueError(f"grant_type {form.get('grant_type')}")
            if form.get("client_assertion_type") != [ASSERTION_TYPE]:
                raise ValueError(f"client_assertion_type {form.get('client_assertion_type')}")
            assertion = form["client_assertion"][0]
            claims = jwt.decode(
                assertion,
                verifying_key,
                algorithms=[algorithm],
                audience=audience,
                issuer=issuer,
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
            header = jwt.get_unverified_header(assertion)
        except Exception as error:  # every refusal is the client's
            print(json.dumps({"accepted": False, "error": f"{type(error).__name__}: {error}"}), flush=True)
            self.answer(401, {"error": "invalid_client"})
            return
        issued += 1
        print(json.dumps({"accepted": True, "header": header, "claims": claims}), flush=True)
        self.answer(200, {"access_token": f"jwt-token-{issued}", "token_type": "Bearer", "expires_in": 3600})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), TokenEndpoint)
print(f"listening {server.server_port}", flush=True)
server.serve_forever()
