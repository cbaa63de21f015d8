"""Delivery gateways, one module per kind (outbox, http, smtp, twilio), each implementing only
what it can do (texts, emails, calls, inbound texts, call events), and their registry; the
push notifiers (push_webpush, push_ntfy, push_fcm) and theirs."""
