import copy

import pytest

from tictactoe import Game

_ = None


def position(cells):
    game = Game()
    game.board = list(cells)
    return game


def test_play_marks_the_cell_and_rejects_bad_cells():
    game = Game()
    assert list(game.board) == [None] * 9 and game.winner is None
    game.play(4)
    assert game.board[4] == "X"
    reply = game.ai_move()
    assert reply != 4 and game.board[reply] == "O"
    for bad in (4, reply, 9, -1):
        with pytest.raises(ValueError):
            game.play(bad)
    assert game.board.count("X") == 1 and game.board.count("O") == 1


def test_lines_win_and_end_the_game():
    game = position(["X", "O", _, "O", "X", _, _, _, _])
    game.play(8)
    assert game.winner == "X"
    with pytest.raises(ValueError):
        game.play(2)
    with pytest.raises(ValueError):
        game.ai_move()
    game = position(["O", "X", "X", _, "O", "X", "O", _, _])
    game.play(8)  # the right column
    assert game.winner == "X"


def test_a_full_board_without_a_line_is_a_draw():
    game = position(["X", "O", "X", "X", "O", "O", "O", "X", _])
    assert game.winner is None
    game.play(8)
    assert game.winner == "draw"


def test_computer_wins_when_it_can_and_blocks_otherwise():
    game = position(["X", "X", "O", "X", "O", _, _, _, _])
    assert game.ai_move() == 6  # the anti-diagonal wins (and blocks X's column too)
    assert game.winner == "O"
    game = position(["X", "X", _, _, "O", _, _, _, _])
    assert game.ai_move() == 2
    game = position([_, _, _, "X", "O", _, "X", _, _])
    assert game.ai_move() == 0
    game = position(["X", _, _, _, "O", _, _, _, "X"])
    assert game.ai_move() in (1, 3, 5, 7)  # a corner would let X make two threats


def test_computer_never_loses():
    games = 0

    def explore(game):
        nonlocal games
        for cell in range(9):
            if game.board[cell] is not None:
                continue
            branch = copy.deepcopy(game)
            branch.play(cell)
            assert branch.winner != "X", branch.board
            if branch.winner is None:
                branch.ai_move()
            if branch.winner is None:
                explore(branch)
            else:
                games += 1

    explore(Game())
    assert games > 100
