"""The reference authenticator: a command-line stand-in for the mobile app.

It speaks the device API (docs/device-api.md) as an app would: it activates with a code,
keeps its own key pair and offline-code secret in a file only its user can read, long-polls
for sign-in requests and answers them with signatures. It imports the project's domain and
factors (for the offline codes) but nothing of the server.
"""
