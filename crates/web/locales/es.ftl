app-name = Anchora
language = Idioma
login-title = Iniciar sesión
login-email = Correo electrónico
login-password = Contraseña
login-submit = Iniciar sesión
login-forgot = ¿Has olvidado tu contraseña?
login-failed = El correo electrónico o la contraseña no son correctos.
login-throttled = Demasiados intentos fallidos. Vuelve a intentarlo dentro de { $seconds } segundos.
form-expired = El formulario había caducado. Inténtalo de nuevo.
logout = Cerrar sesión
home-welcome = Te damos la bienvenida, { $name }
home-role = Tu rol: { $role }
reset-title = Restablecer la contraseña
reset-intro = Introduce tu correo electrónico y te enviaremos un enlace para elegir una contraseña nueva.
reset-submit = Enviar enlace
reset-sent = Si existe una cuenta con esa dirección, el enlace está en camino. Es válido durante una hora.
reset-new-title = Elige una contraseña nueva
reset-new-password = Contraseña nueva
reset-new-submit = Guardar contraseña
reset-invalid = Este enlace no es válido: ya se ha usado, ha caducado o nunca ha existido.
reset-done = Tu contraseña se ha cambiado. Inicia sesión con la nueva.
password-rules = Al menos { $min } caracteres.
password-too-weak = La contraseña no cumple las reglas: al menos { $min } caracteres, no un solo carácter repetido, no tu correo electrónico.
back-to-login = Volver a iniciar sesión
reset-mail-subject = Restablece tu contraseña de Anchora
reset-mail-body =
    Alguien (esperamos que tú) ha pedido restablecer la contraseña de { $email }.

    Abre este enlace antes de una hora para elegir una nueva:
    { $link }

    Si no has sido tú, ignora este correo; tu contraseña sigue igual.
role-admin = Administrador
role-key_user = Usuario clave
role-user = Usuario
role-read_only = Solo lectura
