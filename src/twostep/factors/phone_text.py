"""What the challenge kinds share: one-time codes, and the words of texts, calls and emails.

SMS, two-way SMS, voice and email do not inherit from one another; they call these helpers.
Texts are kept short (one SMS segment) and never say more than the user needs.
"""

from __future__ import annotations

import secrets

CODE_DIGITS = 6
# The settings every code sent by text or email reads: attempts, resends, the delivery limits
# and the language it is written in.
SENT_CODE_SETTINGS = (
    "challenge_attempts",
    "resend_interval",
    "max_sends",
    "delivery_window",
    "user_delivery_limit",
    "tenant_delivery_limit",
    "language",
)

# language -> message key -> text. English is the fallback for a missing language.
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "email_subject": "Your {issuer} verification code",
        "email": "Your {issuer} verification code is {code}.\n\nIt expires in {minutes} min. "
        "Never share it: {issuer} will never ask you for it.\n\nIf you did not try to sign "
        "in, someone may know your password: change it and tell your administrator.",
        "prompt_email": "Enter the code sent to {number}",
        "sms": "Your {issuer} verification code is {code}. It expires in {minutes} min. "
        "Never share it.",
        "sms_reply": "{issuer} sign-in request. To approve, reply {code}. Not you? Do not reply.",
        "voice": "This is {issuer}. Someone is signing in with your account. "
        "To approve, press the pound key.",
        "voice_pin": "This is {issuer}. Someone is signing in with your account. "
        "To approve, enter your PIN, then press the pound key.",
        "fraud_hint": "If this was not you, press {digit}, then pound.",
        "retry": "That PIN is not right. Enter your PIN, then press the pound key.",
        "approved": "Thank you. Your sign-in is approved. Goodbye.",
        "denied": "Your sign-in was denied. Goodbye.",
        "fraud": "Thank you. The sign-in was denied and your administrator alerted. Goodbye.",
        "prompt_sms": "Enter the code sent to {number}",
        "prompt_sms_reply": "Reply to the text message sent to {number}",
        "prompt_voice": "Answer the call to {number} and press #",
        "prompt_voice_pin": "Answer the call to {number}, enter your PIN and press #",
    },
    "de": {
        "email_subject": "Ihr {issuer}-Bestätigungscode",
        "email": "Ihr {issuer}-Bestätigungscode lautet {code}.\n\nEr läuft in {minutes} Min. "
        "ab. Geben Sie ihn nie weiter: {issuer} fragt Sie nie danach.\n\nWenn Sie sich nicht "
        "anmelden wollten, kennt vielleicht jemand Ihr Passwort: Ändern Sie es und "
        "informieren Sie Ihren Administrator.",
        "prompt_email": "Geben Sie den an {number} gesendeten Code ein",
        "sms": "Ihr {issuer}-Bestätigungscode lautet {code}. Er läuft in {minutes} Min. ab. "
        "Geben Sie ihn nie weiter.",
        "sms_reply": "{issuer}-Anmeldeanfrage. Zum Bestätigen antworten Sie {code}. "
        "Nicht Sie? Antworten Sie nicht.",
        "voice": "Hier ist {issuer}. Jemand meldet sich mit Ihrem Konto an. "
        "Zum Bestätigen drücken Sie die Rautetaste.",
        "voice_pin": "Hier ist {issuer}. Jemand meldet sich mit Ihrem Konto an. "
        "Zum Bestätigen geben Sie Ihre PIN ein und drücken Sie die Rautetaste.",
        "fraud_hint": "Wenn Sie das nicht waren, drücken Sie {digit} und dann Raute.",
        "retry": "Diese PIN ist nicht richtig. Geben Sie Ihre PIN ein und drücken Sie die "
        "Rautetaste.",
        "approved": "Danke. Ihre Anmeldung ist bestätigt. Auf Wiederhören.",
        "denied": "Ihre Anmeldung wurde abgelehnt. Auf Wiederhören.",
        "fraud": "Danke. Die Anmeldung wurde abgelehnt und Ihr Administrator benachrichtigt. "
        "Auf Wiederhören.",
        "prompt_sms": "Geben Sie den an {number} gesendeten Code ein",
        "prompt_sms_reply": "Antworten Sie auf die SMS an {number}",
        "prompt_voice": "Nehmen Sie den Anruf an {number} an und drücken Sie #",
        "prompt_voice_pin": "Nehmen Sie den Anruf an {number} an, geben Sie Ihre PIN ein "
        "und drücken Sie #",
    },
    "fr": {
        "email_subject": "Votre code de vérification {issuer}",
        "email": "Votre code de vérification {issuer} est {code}.\n\nIl expire dans {minutes} "
        "min. Ne le partagez jamais : {issuer} ne vous le demandera jamais.\n\nSi vous "
        "n'avez pas essayé de vous connecter, quelqu'un connaît peut-être votre mot de passe : "
        "changez-le et prévenez votre administrateur.",
        "prompt_email": "Saisissez le code envoyé à {number}",
        "sms": "Votre code de vérification {issuer} est {code}. Il expire dans {minutes} min. "
        "Ne le partagez jamais.",
        "sms_reply": "Demande de connexion {issuer}. Pour approuver, répondez {code}. "
        "Ce n'est pas vous ? Ne répondez pas.",
        "voice": "Ici {issuer}. Quelqu'un se connecte avec votre compte. "
        "Pour approuver, appuyez sur la touche dièse.",
        "voice_pin": "Ici {issuer}. Quelqu'un se connecte avec votre compte. "
        "Pour approuver, saisissez votre code PIN, puis appuyez sur dièse.",
        "fraud_hint": "Si ce n'est pas vous, appuyez sur {digit}, puis dièse.",
        "retry": "Ce code PIN n'est pas le bon. Saisissez votre code PIN, puis appuyez sur dièse.",
        "approved": "Merci. Votre connexion est approuvée. Au revoir.",
        "denied": "Votre connexion a été refusée. Au revoir.",
        "fraud": "Merci. La connexion a été refusée et votre administrateur prévenu. Au revoir.",
        "prompt_sms": "Saisissez le code envoyé au {number}",
        "prompt_sms_reply": "Répondez au SMS envoyé au {number}",
        "prompt_voice": "Répondez à l'appel au {number} et appuyez sur #",
        "prompt_voice_pin": "Répondez à l'appel au {number}, saisissez votre code PIN "
        "et appuyez sur #",
    },
    "es": {
        "email_subject": "Su código de verificación de {issuer}",
        "email": "Su código de verificación de {issuer} es {code}.\n\nCaduca en {minutes} min. "
        "No lo comparta nunca: {issuer} nunca se lo pedirá.\n\nSi no ha intentado iniciar "
        "sesión, alguien puede conocer su contraseña: cámbiela y avise a su administrador.",
        "prompt_email": "Introduzca el código enviado a {number}",
        "sms": "Su código de verificación de {issuer} es {code}. Caduca en {minutes} min. "
        "No lo comparta nunca.",
        "sms_reply": "Solicitud de inicio de sesión de {issuer}. Para aprobar, responda {code}. "
        "¿No es usted? No responda.",
        "voice": "Le llama {issuer}. Alguien está iniciando sesión con su cuenta. "
        "Para aprobar, pulse la tecla almohadilla.",
        "voice_pin": "Le llama {issuer}. Alguien está iniciando sesión con su cuenta. "
        "Para aprobar, introduzca su PIN y pulse la almohadilla.",
        "fraud_hint": "Si no ha sido usted, pulse {digit} y luego almohadilla.",
        "retry": "Ese PIN no es correcto. Introduzca su PIN y pulse la almohadilla.",
        "approved": "Gracias. Su inicio de sesión está aprobado. Adiós.",
        "denied": "Su inicio de sesión ha sido rechazado. Adiós.",
        "fraud": "Gracias. El inicio de sesión ha sido rechazado y su administrador avisado. "
        "Adiós.",
        "prompt_sms": "Introduzca el código enviado al {number}",
        "prompt_sms_reply": "Responda al SMS enviado al {number}",
        "prompt_voice": "Conteste la llamada al {number} y pulse #",
        "prompt_voice_pin": "Conteste la llamada al {number}, introduzca su PIN y pulse #",
    },
}
# The digits' names, for the fraud code (text-to-speech reads "0" as a number, not a key).
_DIGITS = {
    "en": "zero one two three four five six seven eight nine",
    "de": "null eins zwei drei vier fünf sechs sieben acht neun",
    "fr": "zéro un deux trois quatre cinq six sept huit neuf",
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve",
}
# The text-to-speech voice for each language we have words for.
_VOICES = {"en": "en-US", "de": "de-DE", "fr": "fr-FR", "es": "es-ES"}


def new_code(digits: int = CODE_DIGITS) -> str:
    """A uniformly random code from the operating system's CSPRNG."""
    return str(secrets.randbelow(10**digits)).zfill(digits)


def normalise_code(text: str) -> str:
    """What a user typed or texted back, without spaces, dashes and surrounding words."""
    return "".join(ch for ch in text if ch.isdigit())


def language_of(wanted: str | None, fallback: str) -> str:
    """The language we have words for: ``de-CH`` -> ``de``; else the tenant's; else en."""
    for tag in (wanted, fallback):
        if tag:
            base = tag.split("-")[0].lower()
            if base in _WORDS:
                return base
    return "en"


def words(key: str, language: str, **values: object) -> str:
    text = _WORDS.get(language, {}).get(key) or _WORDS["en"][key]
    return text.format(**values)


def call_script(key: str, language: str, issuer: str, fraud_code: str | None) -> str:
    """What a call says: ``key``'s words (the greeting, the PIN greeting, the retry), then,
    when the tenant takes fraud reports, which key reports one."""
    script = words(key, language, issuer=issuer)
    if fraud_code is None:
        return script
    names = _DIGITS.get(language, _DIGITS["en"]).split()
    return f"{script} {words('fraud_hint', language, digit=names[int(fraud_code)])}"


def voice_of(language: str) -> str:
    return _VOICES.get(language, "en-US")
