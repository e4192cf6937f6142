app-name = Anchora
language = Sprache
login-title = Anmelden
login-email = E-Mail
login-password = Passwort
login-submit = Anmelden
login-forgot = Passwort vergessen?
login-failed = E-Mail-Adresse oder Passwort ist falsch.
login-throttled = Zu viele fehlgeschlagene Versuche. Versuchen Sie es in { $seconds } Sekunden erneut.
form-expired = Das Formular war abgelaufen. Bitte versuchen Sie es erneut.
logout = Abmelden
home-welcome = Willkommen, { $name }
home-role = Ihre Rolle: { $role }
reset-title = Passwort zurücksetzen
reset-intro = Geben Sie Ihre E-Mail-Adresse ein. Wir senden Ihnen einen Link, mit dem Sie ein neues Passwort wählen können.
reset-submit = Link senden
reset-sent = Falls zu dieser Adresse ein Konto existiert, ist ein Link unterwegs. Er ist eine Stunde gültig.
reset-new-title = Neues Passwort wählen
reset-new-password = Neues Passwort
reset-new-submit = Passwort speichern
reset-invalid = Dieser Link ist ungültig: Er wurde bereits verwendet, ist abgelaufen oder hat nie existiert.
reset-done = Ihr Passwort wurde geändert. Melden Sie sich mit dem neuen an.
password-rules = Mindestens { $min } Zeichen.
password-too-weak = Das Passwort erfüllt die Regeln nicht: mindestens { $min } Zeichen, nicht ein einziges Zeichen wiederholt, nicht Ihre E-Mail-Adresse.
back-to-login = Zurück zur Anmeldung
reset-mail-subject = Ihr Anchora-Passwort zurücksetzen
reset-mail-body =
    Jemand (hoffentlich Sie) hat angefordert, das Passwort für { $email } zurückzusetzen.

    Öffnen Sie diesen Link innerhalb einer Stunde, um ein neues zu wählen:
    { $link }

    Falls Sie das nicht waren, ignorieren Sie diese E-Mail; Ihr Passwort bleibt unverändert.
role-admin = Administrator
role-key_user = Key-User
role-user = Benutzer
role-read_only = Nur Lesezugriff
