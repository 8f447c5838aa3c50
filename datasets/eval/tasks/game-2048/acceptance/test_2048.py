import pytest

from game2048 import Game


def tiles(grid):
    return [value for row in grid for value in row if value]


def move_from(rows, direction, seed=0):
    game = Game(seed=seed)
    game.grid = [list(row) for row in rows]
    moved = game.move(direction)
    return game, moved


def assert_one_new_tile(grid, expected):
    """``grid`` equals ``expected`` except exactly one empty cell now holding a 2 or a 4."""
    differences = [(grid[r][c], expected[r][c]) for r in range(4) for c in range(4)
                   if grid[r][c] != expected[r][c]]
    assert len(differences) == 1, (grid, expected)
    new, old = differences[0]
    assert old == 0 and new in (2, 4), (grid, expected)


def test_new_game_has_two_small_tiles():
    for seed in range(20):
        game = Game(seed=seed)
        assert len(game.grid) == 4 and all(len(row) == 4 for row in game.grid)
        assert len(tiles(game.grid)) == 2 and set(tiles(game.grid)) <= {2, 4}
        assert game.score == 0 and not game.won


def test_left_merges_each_tile_once():
    game, moved = move_from([[2, 2, 2, 2], [2, 2, 2, 0], [4, 4, 8, 0], [2, 0, 2, 4]], "left")
    assert moved is True
    assert_one_new_tile(game.grid, [[4, 4, 0, 0], [4, 2, 0, 0], [8, 8, 0, 0], [4, 4, 0, 0]])
    assert game.score == 8 + 4 + 8 + 4


def test_right_up_and_down():
    game, _ = move_from([[2, 2, 2, 0], [0, 4, 4, 4], [8, 0, 0, 8], [0, 0, 0, 0]], "right")
    assert_one_new_tile(game.grid, [[0, 0, 2, 4], [0, 0, 4, 8], [0, 0, 0, 16], [0, 0, 0, 0]])
    assert game.score == 4 + 8 + 16
    columns = [[2, 4, 0, 16], [2, 4, 0, 0], [4, 0, 0, 16], [4, 4, 2, 0]]  # read downwards
    game, _ = move_from(columns, "up")
    assert_one_new_tile(game.grid, [[4, 8, 2, 32], [8, 4, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert game.score == 4 + 8 + 8 + 32
    game, _ = move_from(columns, "down")
    assert_one_new_tile(game.grid, [[0, 0, 0, 0], [0, 0, 0, 0], [4, 4, 0, 0], [8, 8, 2, 32]])
    assert game.score == 4 + 8 + 8 + 32


def test_a_move_that_changes_nothing_adds_no_tile():
    rows = [[2, 4, 8, 16], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    for direction in ("left", "right", "up"):
        game, moved = move_from(rows, direction)
        assert moved is False, direction
        assert game.grid == rows and game.score == 0
    game, moved = move_from(rows, "down")
    assert moved is True and len(tiles(game.grid)) == 5


def test_game_over_only_without_moves():
    stuck = [[2, 4, 2, 4], [4, 2, 4, 2], [2, 4, 2, 4], [4, 2, 4, 2]]
    game, moved = move_from(stuck, "left")
    assert moved is False and game.is_over()
    vertical_pair = [row[:] for row in stuck]
    vertical_pair[2][0] = vertical_pair[3][0] = 8  # only an up/down move can merge them
    game = Game(seed=1)
    game.grid = vertical_pair
    assert not game.is_over()
    with_hole = [row[:] for row in stuck]
    with_hole[1][1] = 0
    game = Game(seed=1)
    game.grid = with_hole
    assert not game.is_over()


def test_making_2048_wins():
    game, _ = move_from([[1024, 1024, 0, 0], [0] * 4, [0] * 4, [0] * 4], "left")
    assert game.won
    assert game.score == 2048
    game, _ = move_from([[1024, 512, 0, 0], [0] * 4, [0] * 4, [0] * 4], "left")
    assert not game.won


def test_new_tiles_are_mostly_twos_and_sometimes_fours():
    fours = 0
    for seed in range(400):
        game, moved = move_from([[2, 0, 0, 0], [0] * 4, [0] * 4, [0] * 4], "right", seed)
        assert moved
        new = [value for r, row in enumerate(game.grid) for c, value in enumerate(row)
               if value and (r, c) != (0, 3)]
        assert len(new) == 1 and new[0] in (2, 4)
        fours += new[0] == 4
    assert 12 <= fours <= 80, fours
