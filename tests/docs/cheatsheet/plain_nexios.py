"""Plain Nexios 3.12, no course bus: listeners, priorities, removal, a ChannelBox chat."""

from nexios import NexiosApp
from nexios.events import EventPriority
from nexios.testclient import TestClient
from nexios.websockets import Channel, ChannelBox, WebSocket, WebSocketDisconnect

app = NexiosApp()  # app.events is Nexios' EventEmitter
seen = []


def welcome(user):
    seen.append(("welcome", user["name"]))


def audit(user):
    seen.append(("audit", user["name"]))


app.events.on("user.created", audit, priority=EventPriority.LOW)
app.events.on("user.created", welcome, priority=EventPriority.NORMAL)  # NORMAL is the default

stats = app.events.emit("user.created", {"name": "Bob"})  # sync: never await it
assert seen == [("welcome", "Bob"), ("audit", "Bob")]
assert stats["listeners_executed"] == 2

app.events.remove_listener("user.created", audit)  # there is no off()
app.events.emit("user.created", {"name": "Ann"})
assert seen[-1] == ("welcome", "Ann") and len(seen) == 3


@app.ws_route("/chat/{room}")
async def chat_room(ws: WebSocket):
    room = ws.path_params["room"]
    await ws.accept()  # always accept first
    channel = Channel(websocket=ws, payload_type="json")  # payload_type is required
    await ChannelBox.add_channel_to_group(channel, f"chat_{room}")
    try:
        while True:
            msg = await ws.receive_json()
            await ChannelBox.group_send(
                group_name=f"chat_{room}", payload={"room": room, "message": msg}
            )
    except WebSocketDisconnect:
        pass
    finally:
        await ChannelBox.remove_channel_from_group(channel, f"chat_{room}")


with TestClient(app) as client, client.websocket_connect("/chat/lobby") as ws:
    ws.send_json({"text": "hi"})
    assert ws.receive_json() == {"room": "lobby", "message": {"text": "hi"}}
print("plain Nexios 3.12: ok")
