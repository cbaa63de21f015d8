"""Method kinds: one module per kind (app_code, oath_token, app_push, sms, sms_reply, voice,
email), each declaring itself once (``base.Kind``), registered in ``registry``; the helpers
they share (otp, phone, phone_text, resync) beside them."""
