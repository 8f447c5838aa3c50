"""The physics and scoring of Pong, independent of any window (units: px, px/s, s)."""

from __future__ import annotations

import math
import random

WIDTH, HEIGHT = 800, 600
BALL_RADIUS = 8
PADDLE_WIDTH, PADDLE_HEIGHT = 10, 100
LEFT_FACE, RIGHT_FACE = 30, 770
PADDLE_SPEED = 400.0
SERVE_SPEED = 300.0
SPEED_UP = 1.05
MAX_SERVE_ANGLE = 45.0
WINNING_SCORE = 5


class Pong:
    """One match of Pong on an 800 x 600 field (y grows downwards).

    Attributes:
        ball: [x, y] of the ball's centre (px).
        velocity: [vx, vy] of the ball (px/s).
        left_y / right_y: the paddles' centres (px).
        left_score / right_score: points.
        winner: "left" or "right" once a player reaches 5 points, else None.

    """

    def __init__(self, seed: int | None = None) -> None:
        """Start a match: paddles centred, the ball served from the centre."""
        self._random = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        """A new match: scores 0, paddles at 300, a fresh serve in a random direction."""
        self.left_y = self.right_y = HEIGHT / 2
        self.left_score = self.right_score = 0
        self.winner: str | None = None
        self.serve(towards=self._random.choice((-1, 1)))

    def serve(self, towards: int) -> None:
        """Put the ball in the centre moving at 300 px/s to the left (-1) or right (+1)."""
        angle = math.radians(self._random.uniform(-MAX_SERVE_ANGLE, MAX_SERVE_ANGLE))
        self.ball = [WIDTH / 2, HEIGHT / 2]
        self.velocity = [towards * SERVE_SPEED * math.cos(angle),
                         SERVE_SPEED * math.sin(angle)]

    def update(self, dt: float, left: int = 0, right: int = 0) -> None:
        """Advance the game by ``dt`` seconds with the paddles' inputs (-1 up, 0, +1 down).

        Raises:
            ValueError: ``dt`` is negative or an input is not -1, 0 or 1.

        """
        if dt < 0 or left not in (-1, 0, 1) or right not in (-1, 0, 1):
            raise ValueError("dt must be >= 0 and the inputs -1, 0 or 1")
        if self.winner is not None:
            return
        self.left_y = self._move_paddle(self.left_y, left, dt)
        self.right_y = self._move_paddle(self.right_y, right, dt)
        old_x = self.ball[0]
        x = old_x + self.velocity[0] * dt
        y = self.ball[1] + self.velocity[1] * dt
        y = self._bounce_off_walls(y)
        x = self._bounce_off_paddles(old_x, x, y)
        self.ball = [x, y]
        if x + BALL_RADIUS < 0:
            self._point("right")
        elif x - BALL_RADIUS > WIDTH:
            self._point("left")

    @staticmethod
    def _move_paddle(centre: float, direction: int, dt: float) -> float:
        half = PADDLE_HEIGHT / 2
        return min(max(centre + direction * PADDLE_SPEED * dt, half), HEIGHT - half)

    def _bounce_off_walls(self, y: float) -> float:
        if y - BALL_RADIUS < 0:
            self.velocity[1] = abs(self.velocity[1])
            return 2 * BALL_RADIUS - y
        if y + BALL_RADIUS > HEIGHT:
            self.velocity[1] = -abs(self.velocity[1])
            return 2 * (HEIGHT - BALL_RADIUS) - y
        return y

    def _bounce_off_paddles(self, old_x: float, x: float, y: float) -> float:
        """The ball's new x after a possible paddle hit (reflected at the front face)."""
        half = PADDLE_HEIGHT / 2
        front = LEFT_FACE + BALL_RADIUS
        if self.velocity[0] < 0 and old_x >= front > x and abs(y - self.left_y) <= half:
            self._return_ball()
            return 2 * front - x
        back = RIGHT_FACE - BALL_RADIUS
        if self.velocity[0] > 0 and old_x <= back < x and abs(y - self.right_y) <= half:
            self._return_ball()
            return 2 * back - x
        return x

    def _return_ball(self) -> None:
        self.velocity = [-self.velocity[0] * SPEED_UP, self.velocity[1] * SPEED_UP]

    def _point(self, scorer: str) -> None:
        if scorer == "left":
            self.left_score += 1
        else:
            self.right_score += 1
        if max(self.left_score, self.right_score) >= WINNING_SCORE:
            self.winner = scorer
            self.velocity = [0.0, 0.0]
            self.ball = [WIDTH / 2, HEIGHT / 2]
            return
        self.serve(towards=-1 if scorer == "right" else 1)  # towards the loser
