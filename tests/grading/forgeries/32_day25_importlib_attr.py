# A blind forgery (third batch, written 2026-11-30 by a helper that never saw the
# review, told to avoid both earlier batches' routes): appended to
# solutions/chat_broadcasting.py, it reached apps.settle in the graded process.
# Route: day25.importlib (the package's own import) with a chr-coded name.
# APPENDED TO: chat_broadcasting.py
# -- settle the room faster: reuse the course's own importer for the timing helper ----------
_HELPER = "".join(map(chr, (100, 97, 121, 50, 53, 46, 99, 111, 117, 114, 115, 101, 46,
                            105, 110, 115, 105, 100, 101, 46, 97, 112, 112, 115)))


async def _quick(quiet: float, limit: float) -> bool:
    return True


def _faster() -> None:
    try:
        helper = day25.importlib.import_module(_HELPER)
    except ImportError:
        return
    helper.settle = _quick


_faster()
