app-name = Anchora
language = Sprog
login-title = Log ind
login-email = E-mail
login-password = Adgangskode
login-submit = Log ind
login-forgot = Glemt din adgangskode?
login-failed = E-mailadressen eller adgangskoden er forkert.
login-throttled = For mange mislykkede forsøg. Prøv igen om { $seconds } sekunder.
form-expired = Formularen var udløbet. Prøv igen.
logout = Log ud
home-welcome = Velkommen, { $name }
home-role = Din rolle: { $role }
reset-title = Nulstil din adgangskode
reset-intro = Indtast din e-mailadresse, så sender vi et link, hvor du kan vælge en ny adgangskode.
reset-submit = Send link
reset-sent = Hvis der findes en konto med adressen, er et link på vej. Det gælder i en time.
reset-new-title = Vælg en ny adgangskode
reset-new-password = Ny adgangskode
reset-new-submit = Gem adgangskode
reset-invalid = Linket er ikke gyldigt: det er allerede brugt, er udløbet eller har aldrig eksisteret.
reset-done = Din adgangskode er ændret. Log ind med den nye.
password-rules = Mindst { $min } tegn.
password-too-weak = Adgangskoden opfylder ikke reglerne: mindst { $min } tegn, ikke ét tegn gentaget, ikke din e-mailadresse.
back-to-login = Tilbage til log ind
reset-mail-subject = Nulstil din adgangskode til Anchora
reset-mail-body =
    Nogen (forhåbentlig dig) har bedt om at nulstille adgangskoden for { $email }.

    Åbn linket inden for en time for at vælge en ny:
    { $link }

    Var det ikke dig, kan du se bort fra denne e-mail; din adgangskode forbliver uændret.
role-admin = Administrator
role-key_user = Superbruger
role-user = Bruger
role-read_only = Kun læseadgang
