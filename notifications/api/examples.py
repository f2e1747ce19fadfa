"""Request examples shown in the OpenAPI document and Swagger UI."""

from drf_spectacular.utils import OpenApiExample

NOTIFICATION_REQUESTS = [
    OpenApiExample(
        "From a template",
        request_only=True,
        value={
            "channel": "ops-feishu",
            "template": "service-down",
            "context": {"service": "billing", "at": "12:04"},
            "priority": "urgent",
        },
    ),
    OpenApiExample(
        "With subject and body",
        request_only=True,
        value={
            "channel": "ops-email",
            "recipient": "oncall@example.com",
            "subject": "Disk almost full",
            "body": "db-1 has 3% disk left.",
            "expires_at": "2030-01-01T12:00:00Z",
            "metadata": {"ticket": "OPS-1234"},
        },
    ),
]

BULK_REQUESTS = [
    OpenApiExample(
        "Two notifications",
        request_only=True,
        value={
            "notifications": [
                {"channel": "ops-feishu", "body": "Deploy 42 started."},
                {
                    "channel": "ops-feishu",
                    "template": "service-down",
                    "context": {"service": "billing", "at": "12:04"},
                    "priority": "bulk",
                },
            ]
        },
    ),
    OpenApiExample(
        "Created",
        response_only=True,
        status_codes=["201"],
        value={
            "batch": "5a0f3c1e-2b4d-4c7a-9e8f-1d2c3b4a5f60",
            "count": 2,
            "ids": [
                "0b7e6f52-1c2d-4e3f-8a9b-0c1d2e3f4a5b",
                "1c8f7a63-2d3e-4f5a-9b0c-1d2e3f4a5b6c",
            ],
        },
    ),
]

CHANNEL_REQUESTS = [
    OpenApiExample(
        "A Feishu bot",
        request_only=True,
        value={
            "slug": "ops-feishu",
            "name": "Ops group on Feishu",
            "kind": "feishu",
            "config": {"message_type": "text"},
            "secrets": {
                "webhook_url": "https://open.feishu.cn/open-apis/bot/v2/hook/xxxx",
                "signing_secret": "your-signing-secret",
            },
        },
    ),
]

TEMPLATE_REQUESTS = [
    OpenApiExample(
        "A service alert",
        request_only=True,
        value={
            "slug": "service-down",
            "name": "Service down",
            "subject": "{{ service }} is down",
            "body": "{{ service }} failed its health check at {{ at }}.",
            "variants": [
                {
                    "kind": "feishu",
                    "subject": "🔴 {{ service }} is down",
                    "body": "{{ service }} failed at {{ at }}.",
                }
            ],
        },
    ),
]

PREVIEW_REQUESTS = [
    OpenApiExample(
        "Preview for Feishu",
        request_only=True,
        value={"context": {"service": "billing", "at": "12:04"}, "kind": "feishu"},
    ),
]
