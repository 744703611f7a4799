"""Chatwoot webhook deliveries → case events (pure).

Chatwoot (chatwoot.com, open source) posts one JSON object per event to a configured URL. The
shapes used here are those of its webhook documentation ("Webhook events"): message events carry
the message at the top level (`id`, `message_type`, `private`, `created_at`, `sender{type}`) with its
`conversation`; conversation events (`conversation_created`, `conversation_status_changed`,
`conversation_updated`, …) are the conversation itself plus `event`. A conversation has `id` (the
display id), `inbox_id`, `channel` (`Channel::WebWidget`, `Channel::Whatsapp`, `Channel::Email`, …),
`status` (open, resolved, pending, snoozed), `created_at` / `timestamp` (epoch seconds) and, in
recent versions, `priority` (urgent, high, medium, low).

What becomes what:
- any delivery about a conversation: the case `chatwoot:<conversation id>` is `opened` at the
  conversation's `created_at` (else its earliest message, else the delivery), on the channel of its
  inbox (`support.chatwoot.inboxes`, then `channel_types`, then WebWidget → chat, Whatsapp →
  whatsapp, Email → email); a channel we do not measure is ignored;
- `message_created` of an outgoing, non-private message sent by an agent (sender type `user`):
  `first_response` at the message time (bots, templates, private notes and activity do not count);
- status `resolved`: `resolved` (outcome from a conversation label named like one, e.g.
  `third-party`, else `solved`); `snoozed`: `waiting`; `open`: `resumed` and `reopened` (each
  changes nothing when it does not apply);
- `priority` on conversation events: `severity` (urgent T1, high T2, medium T3, low T4).

Nothing else is read: no message text, no contact name, e-mail or phone (LGPD). Event ids come from
Chatwoot's own ids and times, so a delivery repeated, or arriving late, changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from statuspage.config import Chatwoot, Support
from statuspage.models import CASE_OUTCOMES, CaseEvent, CaseOutcome, Channel, Severity

__all__ = ["CHANNEL_TYPES", "Delivery", "events_from_webhook"]

CHANNEL_TYPES: Mapping[str, Channel] = {
    "Channel::WebWidget": "chat",
    "Channel::Whatsapp": "whatsapp",
    "Channel::Email": "email",
}
PRIORITIES: Mapping[str, Severity] = {"urgent": "T1", "high": "T2", "medium": "T3", "low": "T4"}
CONVERSATION_EVENTS = ("conversation_created", "conversation_updated", "conversation_status_changed",
                       "conversation_resolved", "conversation_opened")
MESSAGE_EVENTS = ("message_created", "message_updated")


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one webhook delivery means: the case's events, or why it was ignored."""

    case_id: str | None
    events: tuple[CaseEvent, ...]
    ignored: str | None = None


def _ignore(reason: str, case_id: str | None = None) -> Delivery:
    return Delivery(case_id, (), reason)


EARLIEST, LATEST = 946684800.0, 4102444800.0
"""2000-01-01 and 2100-01-01 (UTC): a time outside them is not a real Chatwoot time."""


def _time(value: Any) -> float | None:
    """Chatwoot writes times as epoch seconds (conversations) or ISO strings (message webhooks)."""
    at: float | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        at = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
            at = parsed.timestamp() if parsed.tzinfo is not None else None
        except (ValueError, OverflowError, OSError):
            return None
    return at if at is not None and EARLIEST <= at <= LATEST else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _channel(conversation: Mapping[str, Any], hook: Chatwoot) -> tuple[Channel | None, str | None]:
    inbox = hook.inboxes.get(_int(conversation.get("inbox_id")) or -1)
    page = inbox.page if inbox is not None else None
    if inbox is not None and inbox.channel is not None:
        return inbox.channel, page
    kind = conversation.get("channel")
    if isinstance(kind, str):
        if kind in hook.channel_types:
            return hook.channel_types[kind], page
        return CHANNEL_TYPES.get(kind), page
    return None, page


def _outcome(conversation: Mapping[str, Any]) -> CaseOutcome:
    labels = conversation.get("labels")
    if isinstance(labels, list):
        for label in labels:
            if isinstance(label, str):
                code = label.strip().lower().replace("-", "_").replace(" ", "_")
                if code in CASE_OUTCOMES:
                    return code
    return "solved"


def events_from_webhook(payload: Mapping[str, Any], support: Support, now: float) -> Delivery:
    """The case events of one Chatwoot delivery (pure; `now` stands in for times it lacks)."""
    hook = support.chatwoot
    assert hook is not None
    event = payload.get("event")
    if not isinstance(event, str):
        return _ignore("no event name")
    if event in MESSAGE_EVENTS:
        conversation = payload.get("conversation")
    elif event in CONVERSATION_EVENTS:
        conversation = payload
    else:
        return _ignore(f"event {event[:60]} is not about a conversation")
    if not isinstance(conversation, Mapping):
        return _ignore("no conversation")
    conv_id = _int(conversation.get("id")) or _int(conversation.get("display_id"))
    if conv_id is None:
        return _ignore("the conversation has no id")
    case_id = f"chatwoot:{conv_id}"
    channel, page = _channel(conversation, hook)
    if channel is None:
        return _ignore("the inbox's channel is not a support channel (support.chatwoot.inboxes)", case_id)
    if channel not in support.channels:
        return _ignore(f"channel {channel} is not measured (support.channels)", case_id)

    messages = conversation.get("messages")
    message_times = [t for m in messages if isinstance(m, Mapping) and (t := _time(m.get("created_at")))] \
        if isinstance(messages, list) else []
    message_at = _time(payload.get("created_at")) if event in MESSAGE_EVENTS else None
    opened_at = (_time(conversation.get("created_at")) or min(message_times, default=None)
                 or message_at or now)
    out = [CaseEvent(case_id, f"opened@{opened_at:.3f}", "opened", opened_at, channel=channel, page=page)]

    if event == "message_created":
        sender = payload.get("sender")
        kind = payload.get("message_type")
        outgoing = kind in ("outgoing", 1)
        agent = isinstance(sender, Mapping) and sender.get("type") == "user"
        msg_id = _int(payload.get("id"))
        if outgoing and agent and payload.get("private") is not True and msg_id is not None:
            out.append(CaseEvent(case_id, f"message:{msg_id}", "first_response", message_at or now))
        return Delivery(case_id, tuple(out))
    if event in MESSAGE_EVENTS:
        return Delivery(case_id, tuple(out))

    at = _time(conversation.get("updated_at")) or _time(conversation.get("timestamp")) or now
    status = conversation.get("status")
    if event == "conversation_resolved":
        status = "resolved"
    if status == "resolved":
        outcome = _outcome(conversation)
        out.append(CaseEvent(case_id, f"status:resolved@{at:.3f}", "resolved", at, outcome=outcome))
    elif status == "snoozed":
        out.append(CaseEvent(case_id, f"status:snoozed@{at:.3f}", "waiting", at))
    elif status == "open" and event != "conversation_created":
        out.append(CaseEvent(case_id, f"status:open@{at:.3f}", "resumed", at))
        out.append(CaseEvent(case_id, f"status:reopen@{at:.3f}", "reopened", at))
    priority = conversation.get("priority")
    if isinstance(priority, str) and priority in PRIORITIES:
        severity = PRIORITIES[priority]
        out.append(CaseEvent(case_id, f"priority:{priority}@{at:.3f}", "severity", at, severity=severity))
    return Delivery(case_id, tuple(out))
