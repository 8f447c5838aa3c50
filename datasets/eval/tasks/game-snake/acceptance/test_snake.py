from snake import Game

FAR = (0, 0)


def cells(snake):
    return [tuple(cell) for cell in snake]


def new_game():
    game = Game(width=20, height=15, seed=1)
    game.food = FAR
    return game


def test_new_game_and_one_step():
    game = new_game()
    assert cells(game.snake) == [(10, 7), (9, 7), (8, 7)]
    assert game.direction == "right" and game.score == 0 and not game.game_over
    game.step()
    assert cells(game.snake) == [(11, 7), (10, 7), (9, 7)]
    game.turn("down")
    game.step()
    assert cells(game.snake) == [(11, 8), (11, 7), (10, 7)]


def test_eating_grows_scores_and_moves_food():
    game = new_game()
    game.food = (11, 7)
    game.step()
    assert cells(game.snake) == [(11, 7), (10, 7), (9, 7), (8, 7)]
    assert game.score == 1
    x, y = game.food
    assert 0 <= x < 20 and 0 <= y < 15 and (x, y) not in cells(game.snake)
    game.food = FAR
    game.step()
    assert cells(game.snake) == [(12, 7), (11, 7), (10, 7), (9, 7)]
    assert game.score == 1


def test_wall_ends_the_game_and_freezes_it():
    game = new_game()
    for _ in range(9):
        game.step()
    assert cells(game.snake)[0] == (19, 7) and not game.game_over
    game.step()
    assert game.game_over
    frozen = cells(game.snake)
    game.turn("up")
    game.step()
    assert cells(game.snake) == frozen and game.game_over and game.score == 0


def test_reversing_onto_the_neck_is_ignored():
    game = new_game()
    game.turn("left")
    game.step()
    assert cells(game.snake)[0] == (11, 7) and not game.game_over
    game.turn("up")
    game.turn("left")  # two keys within one tick: left would reverse the last move
    game.step()
    assert not game.game_over
    assert cells(game.snake)[0] == (11, 6)


def grow(game, times):
    for _ in range(times):
        x, y = cells(game.snake)[0]
        game.food = (x + 1, y)
        game.step()
    game.food = FAR


def test_biting_itself_ends_but_chasing_the_tail_is_fine():
    game = new_game()
    grow(game, 1)  # length 4: the head may enter the cell the tail leaves
    for direction in ("down", "left", "up"):
        game.turn(direction)
        game.step()
    assert not game.game_over
    assert cells(game.snake) == [(10, 7), (10, 8), (11, 8), (11, 7)]

    game = new_game()
    grow(game, 2)  # length 5: the same square bites the body
    for direction in ("down", "left", "up"):
        game.turn(direction)
        game.step()
    assert game.game_over


def test_food_is_never_placed_on_the_snake():
    for seed in range(40):
        game = Game(width=5, height=3, seed=seed)
        assert cells(game.snake) == [(2, 1), (1, 1), (0, 1)]
        x, y = game.food
        assert 0 <= x < 5 and 0 <= y < 3 and (x, y) not in cells(game.snake), (seed, game.food)
        game.food = (3, 1)
        game.step()
        x, y = game.food
        assert 0 <= x < 5 and 0 <= y < 3 and (x, y) not in cells(game.snake), (seed, game.food)
