from minesweeper import Minesweeper


def test_an_opened_cell_counts_its_eight_neighbours():
    game = Minesweeper.from_layout(["*...", "....", "..*.", "...."])
    assert game.view() == ["####"] * 4
    game.reveal(1, 1)
    assert game.view() == ["####", "#2##", "####", "####"]
    game.reveal(3, 3)
    assert game.view() == ["####", "#2##", "####", "###1"]
    assert game.state == "playing" and game.mines_left == 2


def test_a_zero_opens_its_neighbours_until_numbers():
    game = Minesweeper.from_layout([".....", "..*..", ".....", "....."])
    game.reveal(0, 3)
    assert game.view() == [".1#1.", ".1#1.", ".111.", "....."]
    assert game.state == "playing"


def test_flags_protect_cells_and_count_down():
    game = Minesweeper.from_layout(["*..", "...", "..*"])
    game.toggle_flag(0, 0)
    assert game.view()[0] == "F##" and game.mines_left == 1
    game.reveal(0, 0)  # a flagged cell does not open
    assert game.state == "playing" and game.view()[0] == "F##"
    game.toggle_flag(0, 0)
    assert game.view()[0] == "###" and game.mines_left == 2
    game.reveal(1, 0)
    game.toggle_flag(1, 0)  # no flag on an opened cell
    assert game.view()[0] == "#1#" and game.mines_left == 2


def test_opening_a_mine_loses_and_shows_all_mines():
    game = Minesweeper.from_layout(["*...", "....", "...*"])
    game.reveal(1, 1)
    game.reveal(3, 2)
    assert game.state == "lost"
    view = game.view()
    assert view[0][0] == "*" and view[2][3] == "*" and view[1][1] == "1"
    game.reveal(3, 0)
    game.toggle_flag(2, 2)
    assert game.view() == view and game.state == "lost"


def test_opening_every_safe_cell_wins_and_flags_the_mines():
    game = Minesweeper.from_layout(["*...", "....", "....", "...*"])
    game.reveal(3, 0)
    assert game.state == "won"
    assert game.view() == ["F1..", "11..", "..11", "..1F"]
    assert game.mines_left == 0


def test_chord_opens_neighbours_only_with_matching_flags():
    layout = ["*..", "...", "..*"]
    game = Minesweeper.from_layout(layout)
    game.reveal(1, 1)
    game.toggle_flag(0, 0)
    game.chord(1, 1)  # one flag around a 2: nothing happens
    assert game.view() == ["F##", "#2#", "###"]
    game.toggle_flag(2, 2)
    game.chord(1, 1)
    assert game.state == "won"
    assert game.view() == ["F1.", "121", ".1F"]

    game = Minesweeper.from_layout(layout)
    game.reveal(1, 1)
    game.toggle_flag(0, 0)
    game.toggle_flag(2, 0)  # wrong: (2, 2) is the mine
    game.chord(1, 1)
    assert game.state == "lost"
    assert game.view()[2][2] == "*"


def test_first_click_is_safe_and_opens_an_area():
    for seed in range(15):
        game = Minesweeper(5, 5, 16, seed=seed)  # 9 free cells: exactly the first 3 x 3
        game.reveal(2, 2)
        assert game.state == "won", (seed, game.view())
        assert game.view() == ["FFFFF", "F535F", "F3.3F", "F535F", "FFFFF"]
    for seed in range(15):
        game = Minesweeper(4, 4, 15, seed=seed)  # no room for the neighbours: only the cell
        game.reveal(0, 0)
        assert game.state == "won", (seed, game.view())
        assert game.view()[0][0] == "3"
