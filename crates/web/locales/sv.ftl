app-name = Anchora
language = Språk
login-title = Logga in
login-email = E-post
login-password = Lösenord
login-submit = Logga in
login-forgot = Glömt lösenordet?
login-failed = E-postadressen eller lösenordet är fel.
login-throttled = För många misslyckade försök. Försök igen om { $seconds } sekunder.
form-expired = Formuläret hade gått ut. Försök igen.
logout = Logga ut
home-welcome = Välkommen, { $name }
home-role = Din roll: { $role }
reset-title = Återställ ditt lösenord
reset-intro = Ange din e-postadress så skickar vi en länk där du kan välja ett nytt lösenord.
reset-submit = Skicka länk
reset-sent = Om det finns ett konto för adressen är en länk på väg. Den gäller i en timme.
reset-new-title = Välj ett nytt lösenord
reset-new-password = Nytt lösenord
reset-new-submit = Spara lösenord
reset-invalid = Länken gäller inte: den har redan använts, har gått ut eller har aldrig funnits.
reset-done = Ditt lösenord har ändrats. Logga in med det nya.
password-rules = Minst { $min } tecken.
password-too-weak = Lösenordet uppfyller inte reglerna: minst { $min } tecken, inte ett enda tecken upprepat, inte din e-postadress.
back-to-login = Tillbaka till inloggningen
reset-mail-subject = Återställ ditt lösenord till Anchora
reset-mail-body =
    Någon (förhoppningsvis du) bad om att återställa lösenordet för { $email }.

    Öppna länken inom en timme för att välja ett nytt:
    { $link }

    Var det inte du kan du bortse från meddelandet; lösenordet förblir som det är.
role-admin = Administratör
role-key_user = Superanvändare
role-user = Användare
role-read_only = Endast läsrätt
