"""The AsyncAPI 3.0 document of every topic, generated from the contracts (served by the gateway)."""

from typing import Any

from contracts.topics import ALL_TOPICS

_HEADERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents binary mode: attributes as ce_* headers, JSON payload as the value",
    "required": ["ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "ce_specversion", "ce_schemaversion"],
    "properties": {
        "ce_id": {"type": "string", "format": "uuid"},
        "ce_source": {"type": "string"},
        "ce_type": {"type": "string"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "aggregate id"},
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_schemaversion": {"type": "string"},
        "ce_correlationid": {"type": "string"},
        "ce_managingunit": {"type": "string", "description": "scope key: managing unit path"},
        "ce_tier": {"type": "string", "description": "scope key: management tier"},
    },
}


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        channel_id = topic.name.replace(".", "_")
        channel_messages: dict[str, Any] = {}
        for event in topic.events:
            message_id = f"{event.__name__}_v{event.schema_version}"
            messages[message_id] = {
                "name": event.event_type,
                "title": event.__name__,
                "summary": (event.__doc__ or "").strip().splitlines()[0] if event.__doc__ else event.__name__,
                "contentType": "application/json",
                "headers": _HEADERS_SCHEMA,
                "payload": event.model_json_schema(),
            }
            channel_messages[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channels[channel_id] = {
            "address": topic.name,
            "description": topic.description,
            "messages": channel_messages,
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "summary": f"{topic.producer} publishes {topic.aggregate} events",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CadreCare events",
            "version": "1",
            "description": "Domain events exchanged between CadreCare services over Kafka.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
