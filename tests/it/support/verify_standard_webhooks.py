"""Verifies recorded webhook requests with the `standardwebhooks` library (PyPI), which no one here wrote.

Usage: verify_standard_webhooks.py SECRET REQUESTS_JSON
  REQUESTS_JSON: a file holding [{"headers": {...}, "body": "..."}, ...]
Prints one line per request: `ok` or `refused: <why>`.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook

secret, requests_file = sys.argv[1:3]
webhook = Webhook(secret)
with open(requests_file) as file:
    requests = json.load(file)
for request in requests:
    try:
        webhook.verify(request["body"], request["headers"])
        print("ok", flush=True)
    except Exception as error:  # every refusal is the request's
        print(f"refused: {type(error).__name__}: {error}", flush=True)
