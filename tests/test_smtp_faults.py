"""One message over SMTP meeting trouble, against a real aiosmtpd server on 127.0.0.1:
4xx and 421 (tried again), 5xx and a too-big message (that message fails, the next
goes on), a sender refused for good (the cycle stops), and a connection dropped or
stalled before or after the whole message was handed over.

Backoff sleeps go to a recorded fake clock (tests/smtpkit.py); the only real waiting
is the stall tests' 0.3 s socket timeout. The tests assert what happened (a timeout's
reason, sessions, tries), never how long it took; bench/reliability.py measures that.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from automation.errors import DeliveryError
from automation.transports import PermanentFailure, TemporaryFailure, UncertainDelivery
from tests.smtpkit import MESSAGE, SENDER, FakeTime, Serve, send, transport_for
from tests.smtpserver import Certificates, Fault

# one message: temporary and permanent failures


def test_421_mid_cycle_reconnects_and_goes_on(serve: Serve, certificates: Certificates,
                                              fake_time: FakeTime) -> None:
    server = serve("starttls", faults=[Fault("MAIL", "421 4.3.2 Service shutting down",
                                             close=True, skip=5)])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    for number in range(10):
        send(transport, f"person{number}@partner.example")
    transport.close()
    assert [m.connection for m in server.messages] == [1] * 5 + [2] * 5
    assert len(server.messages) == 10
    assert fake_time.sleeps == [1.0]
    assert transport.connections == 2


@pytest.mark.parametrize(("times", "delivered", "sleeps"), [
    (1, True, [1.0]),  # greylisting: the second try gets through
    (0, False, [1.0, 2.0]),  # still refused after three tries: due next cycle
])
def test_451_for_one_recipient_is_tried_again(serve: Serve, certificates: Certificates,
                                              fake_time: FakeTime, times: int, delivered: bool,
                                              sleeps: list[float]) -> None:
    reply = "451 4.7.1 <anna@partner.example>: greylisted, try again later"
    server = serve("starttls", faults=[Fault("RCPT", reply, address="anna@partner.example",
                                             times=times)])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    if delivered:
        send(transport)
    else:
        with pytest.raises(TemporaryFailure) as caught:
            send(transport)
        assert str(caught.value) == f"{reply} (after 3 tries)"
    send(transport, "bo@partner.example")
    transport.close()
    expected = ["anna@partner.example"] * delivered + ["bo@partner.example"]
    assert [m.rcpt_tos[0] for m in server.messages] == expected
    assert fake_time.sleeps == sleeps
    assert server.connections == 1


@pytest.mark.parametrize(("verb", "reply"), [
    ("RCPT", "550 5.1.1 <anna@partner.example>: no such user"),
    ("RCPT", "553 5.1.3 <anna@partner.example>: bad address syntax"),
    ("DATA", "552 5.3.4 Message too big for system"),
    ("DATA", "554 5.7.1 Message rejected as spam"),
])
def test_permanent_refusal_fails_that_message_and_the_next_goes_on(
        serve: Serve, certificates: Certificates, fake_time: FakeTime, verb: str,
        reply: str) -> None:
    server = serve("starttls", faults=[Fault(verb, reply)])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    with pytest.raises(PermanentFailure) as caught:
        send(transport, "anna@partner.example")
    assert str(caught.value) == reply
    send(transport, "bo@partner.example")
    transport.close()
    assert [m.rcpt_tos for m in server.messages] == [("bo@partner.example",)]
    assert server.connections == 1
    assert fake_time.sleeps == []
    # smtplib's RSET clears the refused transaction before the next MAIL
    assert server.handler.commands[server.handler.commands.index(verb) + 1] == "RSET"


def test_message_over_the_servers_size_limit_fails(serve: Serve, certificates: Certificates,
                                                   fake_time: FakeTime) -> None:
    server = serve("starttls", data_size_limit=len(MESSAGE) + 100)
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    with pytest.raises(PermanentFailure, match=r"^552 "):
        transport.send(MESSAGE + b"x" * 500, SENDER, ["anna@partner.example"], "big")
    send(transport, "bo@partner.example")
    transport.close()
    assert [m.rcpt_tos for m in server.messages] == [("bo@partner.example",)]


def test_sender_refused_for_good_stops_the_cycle(serve: Serve, certificates: Certificates,
                                                 fake_time: FakeTime) -> None:
    server = serve("starttls", faults=[Fault("MAIL", "553 5.7.1 Sender address rejected: "
                                                     "not owned by user")])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    with pytest.raises(DeliveryError, match=rf"^127\.0\.0\.1:{server.port} refused the sender "
                                            rf"{SENDER} \(553 5\.7\.1 Sender address rejected"):
        send(transport)
    transport.close()


@pytest.mark.parametrize(("fault", "reason"), [
    (Fault("DATA-COMMAND", close=True), r"connection lost \(.+\)"),
    (Fault("DATA-COMMAND", "354 Go ahead", stall=5.0), r"no reply within 0\.3 s"),
])
@pytest.mark.parametrize(("times", "delivered"), [(1, True), (0, False)])
def test_lost_before_the_content_was_handed_over_is_tried_again(
        serve: Serve, certificates: Certificates, fake_time: FakeTime, fault: Fault,
        reason: str, times: int, delivered: bool) -> None:
    # nothing of the message reached the server, so sending it again cannot double it
    server = serve("starttls", faults=[replace(fault, times=times)])
    transport = transport_for(server, certificates, fake_time, timeout=0.3)
    transport.open()
    if delivered:
        send(transport)
        # the first session was given up (a stall: after the 0.3 s timeout, not the 5 s
        # stall, which would have gone on to a 354 on that same session)
        assert [m.connection for m in server.messages] == [2]
        assert fake_time.sleeps == [1.0]
    else:
        with pytest.raises(TemporaryFailure, match=rf"^{reason} \(after 3 tries\)$"):
            send(transport)
        assert server.messages == []
        assert server.connections == 3
        assert fake_time.sleeps == [1.0, 2.0]
    # one transaction per session: each try was given up at its first lost reply
    assert server.handler.commands.count("MAIL") == server.connections
    transport.close()


@pytest.mark.parametrize(("fault", "what"), [
    # the server kept the message and hung up before its 250: the reply is lost
    (Fault("DATA", close=True, accept=True), r"connection lost \(.+\)"),
    # the server kept it but answers only after the client stopped waiting
    (Fault("DATA", "250 2.0.0 Too late", stall=5.0, accept=True), r"no reply within 0\.3 s"),
])
def test_lost_after_the_content_was_handed_over_is_uncertain_and_not_retried(
        serve: Serve, certificates: Certificates, fake_time: FakeTime, fault: Fault,
        what: str) -> None:
    server = serve("starttls", faults=[fault])
    transport = transport_for(server, certificates, fake_time, timeout=0.3)
    transport.open()
    with pytest.raises(UncertainDelivery, match=rf"^127\.0\.0\.1:{server.port}: {what} after "
                                                r"the whole message was handed over; it may "
                                                r"have been delivered"):
        send(transport, "anna@partner.example")
    # one try, no retry: one session, one DATA, no backoff
    assert server.connections == 1 and server.handler.commands.count("DATA") == 1
    assert fake_time.sleeps == []
    # delivered exactly once: a retry here would have been a second copy
    assert [m.rcpt_tos for m in server.messages] == [("anna@partner.example",)]
    send(transport, "bo@partner.example")  # the next message reconnects
    transport.close()
    assert [(m.rcpt_tos[0], m.connection) for m in server.messages] == [
        ("anna@partner.example", 1), ("bo@partner.example", 2)]
    assert server.handler.commands.count("DATA") == 2
