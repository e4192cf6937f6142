"""An SMTP server for tests (aiosmtpd): keeps each message it accepts as a file in a directory,
with the envelope in front (X-Envelope-From, X-Envelope-To), and answers as real servers do for
chosen addresses: a local part starting "hard-bounce" gets 550 (permanent), one starting
"soft-bounce" gets 451 (try later). An optional delay per message makes a kill mid-mailing land
inside a batch.

    python3 smtp_sink.py PORT DIR [DELAY_MS]
"""

import asyncio
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, delay):
        self.directory = directory
        self.delay = delay
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("hard-bounce"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("soft-bounce"):
            return "451 4.7.1 <%s>: Greylisted, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        name = "%d-%d-%d.eml" % (time.time_ns(), os.getpid(), self.count)
        head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
            envelope.mail_from,
            ",".join(envelope.rcpt_tos),
        )
        partial = os.path.join(self.directory, "." + name)
        with open(partial, "wb") as f:
            f.write(head.encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(partial, os.path.join(self.directory, name))
        return "250 2.0.0 Ok: queued"


def main():
    port = int(sys.argv[1])
    directory = sys.argv[2]
    delay = int(sys.argv[3]) / 1000.0 if len(sys.argv) > 3 else 0
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory, delay), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
