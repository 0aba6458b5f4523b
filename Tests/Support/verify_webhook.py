#!/usr/bin/env python3
"""Checks a webhook recorded by http_sink.py with independent libraries, as a receiver would:
the Standard Webhooks reference library verifies the signature, and the CloudEvents SDK
reads the body (structured mode).

    python3 verify_webhook.py --secret whsec_... RECORD.json
Prints "OK <webhook-id> <event id> <event type>", or the error and exits 1.
"""
import argparse
import json
import sys

try:  # cloudevents 2.x keeps the 1.x API under cloudevents.v1
    from cloudevents.v1.http import from_http
except ImportError:
    from cloudevents.http import from_http
from standardwebhooks.webhooks import Webhook


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("record")
    args = parser.parse_args()
    with open(args.record, encoding="utf-8") as f:
        record = json.load(f)
    headers = {k.lower(): v for k, v in record["headers"]}
    body = record["body"].encode("utf-8")
    try:
        Webhook(args.secret).verify(body, headers)
    except Exception as error:  # the library raises WebhookVerificationError
        print(f"signature rejected by standardwebhooks: {error!r}")
        return 1
    try:
        event = from_http(headers, body)
    except Exception as error:
        print(f"body rejected by the CloudEvents SDK: {error!r}")
        return 1
    print("OK", headers["webhook-id"], event["id"], event["type"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
