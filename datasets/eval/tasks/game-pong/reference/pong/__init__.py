"""Pong: the physics (:class:`Pong`) and a pygame window (``pong.main``)."""

from pong.physics import Pong

__all__ = ["Pong"]
