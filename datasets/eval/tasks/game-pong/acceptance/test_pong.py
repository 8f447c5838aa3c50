import math

import pytest

from pong import Pong

DT = 1 / 120


def place(game, ball, velocity):
    """Set the ball and its velocity in place (works for lists, vectors and arrays)."""
    for name, value in (("ball", ball), ("velocity", velocity)):
        try:
            current = getattr(game, name)
            current[0], current[1] = value
        except TypeError:
            setattr(game, name, list(value))


def speed(game):
    return math.hypot(*game.velocity)


def run(game, seconds, until=lambda: False, **inputs):
    for _ in range(round(seconds / DT)):
        game.update(DT, **inputs)
        if until():
            return True
    return False


def assert_served(game, towards):
    assert list(game.ball) == [pytest.approx(400), pytest.approx(300)]
    assert speed(game) == pytest.approx(300, abs=0.5)
    vx, vy = game.velocity
    assert vx * towards > 0
    assert abs(vy) <= abs(vx) + 1e-6


def test_new_match_serves_from_the_centre():
    for seed in range(10):
        game = Pong(seed=seed)
        assert game.left_y == pytest.approx(300) and game.right_y == pytest.approx(300)
        assert game.left_score == 0 and game.right_score == 0 and game.winner is None
        assert_served(game, 1 if game.velocity[0] > 0 else -1)


def test_ball_moves_by_velocity_and_bounces_off_walls():
    game = Pong(seed=1)
    place(game, [400, 300], [120, -60])
    game.update(0.1)
    assert list(game.ball) == [pytest.approx(412), pytest.approx(294)]
    place(game, [400, 100], [0, -300])
    run(game, 1.0)
    assert game.velocity[1] > 0
    assert game.ball[1] == pytest.approx(216, abs=6)  # 92 px up to the wall, 208 back down
    place(game, [400, 500], [0, 300])
    run(game, 1.0)
    assert game.velocity[1] < 0
    assert game.ball[1] == pytest.approx(384, abs=6)


def test_paddles_move_and_stop_at_the_edges():
    game = Pong(seed=2)
    place(game, [400, 300], [0, 0])
    game.update(0.25, left=-1)
    assert game.left_y == pytest.approx(200) and game.right_y == pytest.approx(300)
    game.update(0.25, right=1)
    assert game.left_y == pytest.approx(200) and game.right_y == pytest.approx(400)
    run(game, 2.0, left=-1, right=1)
    assert game.left_y == pytest.approx(50) and game.right_y == pytest.approx(550)


def test_paddles_return_the_ball_five_percent_faster():
    game = Pong(seed=3)
    place(game, [100, 300], [-300, 0])
    assert run(game, 1.0, until=lambda: game.velocity[0] > 0)
    assert speed(game) == pytest.approx(315, abs=0.5)
    assert game.ball[0] >= 30
    place(game, [700, 290], [300, 40])
    assert run(game, 1.0, until=lambda: game.velocity[0] < 0)
    assert speed(game) == pytest.approx(math.hypot(300, 40) * 1.05, abs=0.5)
    assert game.ball[0] <= 770
    assert game.left_score == 0 and game.right_score == 0


def test_a_missed_ball_scores_and_is_served_to_the_loser():
    game = Pong(seed=4)
    place(game, [100, 500], [-300, 0])
    assert run(game, 2.0, until=lambda: game.right_score == 1)
    assert game.left_score == 0
    assert_served(game, -1)
    place(game, [700, 120], [330, 0])
    assert run(game, 2.0, until=lambda: game.left_score == 1)
    assert game.right_score == 1
    assert_served(game, 1)


def test_first_to_five_wins_and_the_game_stops():
    game = Pong(seed=5)
    for point in range(1, 6):
        assert game.winner is None
        place(game, [100, 560], [-400, 0])
        assert run(game, 2.0, until=lambda: game.right_score == point)
    assert game.winner == "right" and game.left_score == 0
    ball = list(game.ball)
    run(game, 1.0, left=1)
    assert list(game.ball) == ball and game.right_score == 5 and game.winner == "right"
