"""Prometheus metrics: one module-level object per metric, shared by every part of the bot.

Served in the Prometheus text format at ``/metrics`` (:mod:`bot.http`). Labels are low
cardinality on purpose: platform, decision kind, error kind — never a user id, chat id or text
(personal data never reaches analytics). The default registry also carries the
``process_*`` collectors (RSS, CPU, open fds) that operators watch.

Who updates what:

- adapters (``bot/messengers/``: Telegram, Viber): :data:`UPDATES_RECEIVED`, :data:`UPDATES_FAILED`;
- the engine (``bot/engine.py``): :data:`UPDATES_PROCESSED`, :data:`UPDATES_DUPLICATE`,
  :data:`PROCESSING_SECONDS`, :data:`DECISIONS`;
- the answers (``handlers/answers.py``): :data:`STALE_ANSWERS`;
- the outbox worker (``bot/outbox.py``): :data:`OUTBOX_DEPTH`, :data:`MESSAGES_SENT`,
  :data:`SEND_ERRORS`, :data:`SEND_SECONDS`, :data:`OUTBOX_UNRECORDED_SECONDS`;
- the announcement worker (``bot/announce/worker.py``): :data:`ANNOUNCEMENT_RECIPIENTS`
  (delivered / failed / pending / skipped of the announcements being sent),
  :data:`ANNOUNCEMENT_MESSAGES_QUEUED`.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = [
    "ANNOUNCEMENT_MESSAGES_QUEUED",
    "ANNOUNCEMENT_RECIPIENTS",
    "CONTENT_TYPE_LATEST",
    "DECISIONS",
    "MESSAGES_SENT",
    "OUTBOX_DEPTH",
    "OUTBOX_UNRECORDED_SECONDS",
    "PROCESSING_SECONDS",
    "SEND_ERRORS",
    "SEND_ERROR_KINDS",
    "SEND_SECONDS",
    "STALE_ANSWERS",
    "UPDATES_DUPLICATE",
    "UPDATES_FAILED",
    "UPDATES_PROCESSED",
    "UPDATES_RECEIVED",
    "render",
    "send_error_kind",
]

# Processing an update is a database transaction plus pure matching: milliseconds. The buckets
# resolve the 1-100 ms range the latency target lives in, with a tail for a slow database.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

UPDATES_RECEIVED = Counter(
    "otwarta_updates_received",
    "Updates received from a messenger (before deduplication), ignored ones included.",
    ["platform"],
)
UPDATES_PROCESSED = Counter(
    "otwarta_updates_processed",
    "Events handled and committed by the engine (first delivery only).",
    ["platform"],
)
UPDATES_DUPLICATE = Counter(
    "otwarta_updates_duplicate",
    "Events dropped because their dedupe key was already processed (redeliveries).",
    ["platform"],
)
UPDATES_FAILED = Counter(
    "otwarta_updates_failed",
    "Events whose processing raised; they are not acknowledged, so the platform redelivers.",
    ["platform"],
)
PROCESSING_SECONDS = Histogram(
    "otwarta_update_processing_seconds",
    "Time the engine spends on one event (handlers + commit), seconds.",
    ["platform"],
    buckets=_LATENCY_BUCKETS,
)
DECISIONS = Counter(
    "otwarta_decisions",
    "Matcher decisions on free-text questions, by kind (answer, clarify, handoff).",
    ["decision"],
)
STALE_ANSWERS = Counter(
    "otwarta_stale_answers",
    "Answers shown after their entry's review_by date (the entry needs checking), by entry id.",
    ["entry"],
)
OUTBOX_DEPTH = Gauge(
    "otwarta_outbox_depth",
    "Replies waiting in the outbox (pending or scheduled for retry).",
    ["platform"],
)
MESSAGES_SENT = Counter(
    "otwarta_messages_sent",
    "Replies delivered by a messenger's sender.",
    ["platform"],
)
SEND_ERRORS = Counter(
    "otwarta_send_errors",
    "Failed delivery attempts by platform and kind (see SEND_ERROR_KINDS).",
    ["platform", "kind"],
)
SEND_SECONDS = Histogram(
    "otwarta_send_seconds",
    "Time one delivery attempt takes (the messenger's API round trips), seconds.",
    ["platform"],
    buckets=_LATENCY_BUCKETS,
)

OUTBOX_UNRECORDED_SECONDS = Histogram(
    "otwarta_outbox_unrecorded_seconds",
    "From a messenger accepting a message to its 'sent' being committed, seconds: a crash "
    "in this window sends the message again after the restart.",
    buckets=_LATENCY_BUCKETS,
)

#: The ``kind`` label values of :data:`SEND_ERRORS`, one per :class:`bot.ports.DeliveryError`.
ANNOUNCEMENT_RECIPIENTS = Gauge(
    "otwarta_announcement_recipients",
    "Recipients of the announcements being sent, by status (delivered, failed, pending, skipped).",
    ["status"],
)
ANNOUNCEMENT_MESSAGES_QUEUED = Counter(
    "otwarta_announcement_messages_queued",
    "Announcement messages handed to the outbox (its announcement lane).",
)

SEND_ERROR_KINDS = ("retry_later", "recipient_gone", "thread_gone", "permanent", "unexpected")


def send_error_kind(error: BaseException) -> str:
    """The :data:`SEND_ERRORS` ``kind`` label for a delivery error."""
    from bot.ports import PermanentFailure, RecipientGone, RetryLater, ThreadGone

    if isinstance(error, RetryLater):
        return "retry_later"
    if isinstance(error, RecipientGone):
        return "recipient_gone"
    if isinstance(error, ThreadGone):
        return "thread_gone"
    if isinstance(error, PermanentFailure):
        return "permanent"
    return "unexpected"


def render(registry: CollectorRegistry = REGISTRY) -> bytes:
    """Every metric in the Prometheus text exposition format (``CONTENT_TYPE_LATEST``)."""
    return generate_latest(registry)


# -- the consultant desk (issue 4) ------------------------------------------------------------
# Updated by bot/desk: the gauge by the reminder job (every DESK_REMINDER_INTERVAL_SECONDS),
# the rest when a turn that changed a ticket commits. Times are in seconds; the buckets span a
# minute to two days (people wait for humans in minutes and hours, not milliseconds).
_DESK_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 4 * 3600, 8 * 3600, 24 * 3600, 48 * 3600)

DESK_TICKETS = Gauge(
    "otwarta_desk_tickets",
    "Open consultant-desk tickets by state (waiting, assigned).",
    ["state"],
)
DESK_TICKETS_OPENED = Counter(
    "otwarta_desk_tickets_opened",
    "Tickets opened (urgent: danger words).",
    ["urgent"],
)
DESK_TICKETS_CLOSED = Counter(
    "otwarta_desk_tickets_closed",
    "Tickets closed, by reason (resolved, no_reply, cancelled, erased).",
    ["reason"],
)
DESK_TICKETS_REOPENED = Counter(
    "otwarta_desk_tickets_reopened", "Tickets reopened by the person writing again."
)
DESK_FIRST_RESPONSE_SECONDS = Histogram(
    "otwarta_desk_first_response_seconds",
    "From a ticket's opening to the consultant's first message to the person.",
    buckets=_DESK_BUCKETS,
)
DESK_CLOSE_SECONDS = Histogram(
    "otwarta_desk_close_seconds",
    "From a ticket's opening (or reopening) to its closing.",
    buckets=_DESK_BUCKETS,
)
DESK_RATINGS = Counter(
    "otwarta_desk_ratings",
    "Ratings people gave after a closing, by score (1-5).",
    ["score"],
)
DESK_REFUSED = Counter(
    "otwarta_desk_refused",
    "Consultant actions refused because the member is not on the consultants' list.",
    ["action"],
)
DESK_UNREACHABLE = Counter(
    "otwarta_desk_unreachable",
    "Desk messages that could not be put into the desk group (a misconfigured group), by step; "
    "each is retried.",
    ["step"],
)
DESK_QUEUE_BATCHED = Counter(
    "otwarta_desk_queue_batched",
    "Queued desk messages joined into another one's send (a burst, or a ticket over its cap).",
)


# -- reliability (issue 12): supervised workers, poison updates, rejected webhooks --------------
WORKER_RESTARTS = Counter(
    "otwarta_worker_restarts",
    "Restarts of a supervised background worker after it failed (bot/supervisor.py).",
    ["worker"],
)
WORKER_UP = Gauge(
    "otwarta_worker_up",
    "1 while a supervised worker does its work, 0 while it is down (crashed, or its API gone).",
    ["worker"],
)
DEPENDENCY_UP = Gauge(
    "otwarta_dependency_up",
    "1 while a shared dependency (the database) answers, 0 during an outage.",
    ["dependency"],
)
POISON_UPDATES = Counter(
    "otwarta_poison_updates",
    "Updates set aside unprocessed: unparsable, or failing POISON_ATTEMPTS times (by reason).",
    ["platform", "reason"],
)
WEBHOOKS_REJECTED = Counter(
    "otwarta_webhooks_rejected",
    "Webhook requests refused (bad signature or secret, malformed body, too large), by reason.",
    ["platform", "reason"],
)
GAUGES_REFRESHED = Gauge(
    "otwarta_gauges_refreshed_timestamp_seconds",
    "When the outbox-depth and waiting-ticket gauges were last read from the database.",
)
