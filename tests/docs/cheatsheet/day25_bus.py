"""The lesson's API on a NexiosApp, made real by install(app)."""

import asyncio

from nexios import NexiosApp

from day25 import EventPriority, current_event, install

app = NexiosApp()
install(app)  # app.events is now a day25.EventBus
seen = []


async def welcome(user):
    seen.append(("welcome", user["name"]))


def audit(user):
    seen.append(("audit", user["name"]))


async def main():
    app.events.on("user.created", audit, priority=EventPriority.LOW)
    app.events.on("user.created", welcome)  # MEDIUM is the default

    result = await app.events.emit("user.created", {"name": "Bob"})  # awaits every listener
    assert seen == [("welcome", "Bob"), ("audit", "Bob")]
    assert result.ran == 2 and result.ok

    app.events.off("user.created", audit)  # off(event) removes them all
    await app.events.emit("user.created", {"name": "Ann"})
    assert seen[-1] == ("welcome", "Ann") and len(seen) == 3

    app.events.once("first.login", lambda user: seen.append(("first", user)))
    await app.events.emit("first.login", "Ann")
    await app.events.emit("first.login", "Ann")  # the once-listener is gone
    assert seen.count(("first", "Ann")) == 1

    ui = app.events.namespace("ui")
    app.events.on("ui:*", lambda *args: seen.append(("ui:*", current_event())))
    await ui.emit("button.click", "submit")  # the event is 'ui:button.click'
    assert seen[-1] == ("ui:*", "ui:button.click")


asyncio.run(main())
print("day25 bus: ok")
