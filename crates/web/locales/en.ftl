app-name = Anchora
language = Language
login-title = Sign in
login-email = E-mail
login-password = Password
login-submit = Sign in
login-forgot = Forgot your password?
login-failed = The e-mail or password is wrong.
login-throttled = Too many failed attempts. Try again in { $seconds } seconds.
form-expired = The form had expired. Please try again.
logout = Sign out
home-welcome = Welcome, { $name }
home-role = Your role: { $role }
reset-title = Reset your password
reset-intro = Enter your e-mail address and we will send you a link to choose a new password.
reset-submit = Send link
reset-sent = If an account exists for that address, a link is on its way. It is valid for one hour.
reset-new-title = Choose a new password
reset-new-password = New password
reset-new-submit = Save password
reset-invalid = This link is not valid: it was used already, has expired or never existed.
reset-done = Your password was changed. Sign in with the new one.
password-rules = At least { $min } characters.
password-too-weak = The password does not meet the rules: at least { $min } characters, not one character repeated, not your e-mail address.
back-to-login = Back to sign in
reset-mail-subject = Reset your Anchora password
reset-mail-body =
    Someone (hopefully you) asked to reset the password for { $email }.

    Open this link within an hour to choose a new one:
    { $link }

    If it was not you, ignore this e-mail; your password stays as it is.
role-admin = Administrator
role-key_user = Key user
role-user = User
role-read_only = Read-only
