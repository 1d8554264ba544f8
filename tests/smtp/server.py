"""A real SMTP server for the tests (aiosmtpd 1.4.6 from PyPI).

Writes each accepted message to DIR as NNNN.eml (atomically, with its envelope in NNNN.json),
refuses the first --refuse-first messages with a temporary 451, prints "listening on PORT" and
serves until its standard input closes (the test that started it has gone).
"""

import argparse
import json
import os
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, refuse_first):
        self.out = out
        self.refuse = refuse_first
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Mailbox busy, try again later"
            self.count += 1
            name = f"{time.time_ns()}-{self.count:04d}"
        tmp = os.path.join(self.out, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
        with open(os.path.join(self.out, name + ".json"), "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        os.replace(tmp, os.path.join(self.out, name + ".eml"))
        return "250 2.0.0 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--refuse-first", type=int, default=0)
    args = parser.parse_args()
    port = free_port()
    controller = Controller(Handler(args.dir, args.refuse_first), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening on {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
