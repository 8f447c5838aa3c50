"""Play Snake in a pygame window: arrow keys turn, Space restarts, Esc quits."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pygame

from snake.game import Game

CELL = 24
TOP = 32
KEYS = {"K_UP": "up", "K_DOWN": "down", "K_LEFT": "left", "K_RIGHT": "right"}
BACKGROUND, GRID, SNAKE, HEAD, FOOD, TEXT = ((18, 18, 24), (30, 30, 40), (60, 180, 90),
                                            (120, 230, 140), (220, 70, 60), (235, 235, 235))


def draw(screen: pygame.Surface, game: Game, font: pygame.font.Font) -> None:
    """Draw the board, the snake, the food and the score line."""
    screen.fill(BACKGROUND)
    pygame.draw.rect(screen, GRID, (0, TOP, game.width * CELL, game.height * CELL), 1)
    if game.food is not None:
        fx, fy = game.food
        pygame.draw.ellipse(screen, FOOD, (fx * CELL + 3, TOP + fy * CELL + 3, CELL - 6,
                                           CELL - 6))
    for index, (x, y) in enumerate(game.snake):
        pygame.draw.rect(screen, HEAD if index == 0 else SNAKE,
                         (x * CELL + 1, TOP + y * CELL + 1, CELL - 2, CELL - 2), border_radius=4)
    status = f"Score: {game.score}" + ("   Game over: Space to play again" if game.game_over
                                       else "")
    screen.blit(font.render(status, True, TEXT), (8, 6))


def main() -> int:
    """Run the game loop until the window is closed."""
    pygame.init()
    game = Game()
    screen = pygame.display.set_mode((game.width * CELL, game.height * CELL + TOP))
    pygame.display.set_caption("Snake")
    font = pygame.font.Font(None, 28)
    clock = pygame.time.Clock()
    keys = {getattr(pygame, name): direction for name, direction in KEYS.items()}
    running = True
    while running:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN
                                             and event.key == pygame.K_ESCAPE):
                running = False
            elif event.type == pygame.KEYDOWN and event.key in keys:
                game.turn(keys[event.key])
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_SPACE and game.game_over:
                game.reset()
        game.step()
        draw(screen, game, font)
        pygame.display.flip()
        clock.tick(8 + game.score // 5)
    pygame.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
