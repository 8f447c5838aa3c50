"""2048 в окне pygame: стрелки или WASD — ход, R — новая игра, Esc — выход."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pygame

from game2048.board import Game

TILE, GAP, TOP = 100, 12, 90
BEST_FILE = Path.home() / ".game2048_best"
BACKGROUND, BOARD, EMPTY = (250, 248, 239), (187, 173, 160), (205, 193, 180)
DARK_TEXT, LIGHT_TEXT = (119, 110, 101), (249, 246, 242)
COLOURS = {2: (238, 228, 218), 4: (237, 224, 200), 8: (242, 177, 121), 16: (245, 149, 99),
           32: (246, 124, 95), 64: (246, 94, 59), 128: (237, 207, 114), 256: (237, 204, 97),
           512: (237, 200, 80), 1024: (237, 197, 63), 2048: (237, 194, 46)}
KEYS = {pygame.K_UP: "up", pygame.K_w: "up", pygame.K_DOWN: "down", pygame.K_s: "down",
        pygame.K_LEFT: "left", pygame.K_a: "left", pygame.K_RIGHT: "right",
        pygame.K_d: "right"}


def load_best() -> int:
    """The best score saved by an earlier game, or 0."""
    try:
        return int(BEST_FILE.read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        return 0


def save_best(best: int) -> None:
    """Remember the best score; a read-only home folder is not worth a crash."""
    with contextlib.suppress(OSError):
        BEST_FILE.write_text(str(best), encoding="utf-8")


def draw(screen: pygame.Surface, game: Game, best: int, fonts: dict[str, pygame.font.Font]
         ) -> None:
    """Draw the score line, the board and the end-of-game message."""
    screen.fill(BACKGROUND)
    header = fonts["small"].render(f"Счёт: {game.score}    Рекорд: {best}", True, DARK_TEXT)
    screen.blit(header, (GAP, 30))
    side = game.size * (TILE + GAP) + GAP
    pygame.draw.rect(screen, BOARD, (0, TOP, side, side), border_radius=8)
    for r, row in enumerate(game.grid):
        for c, value in enumerate(row):
            rect = pygame.Rect(GAP + c * (TILE + GAP), TOP + GAP + r * (TILE + GAP), TILE, TILE)
            pygame.draw.rect(screen, COLOURS.get(value, (60, 58, 50)) if value else EMPTY, rect,
                             border_radius=6)
            if value:
                font = fonts["tile"] if value < 1000 else fonts["small"]
                text = font.render(str(value), True, DARK_TEXT if value <= 4 else LIGHT_TEXT)
                screen.blit(text, text.get_rect(center=rect.center))
    message = "Игра окончена — R" if game.is_over() else ("Победа!" if game.won else "")
    if message:
        text = fonts["tile"].render(message, True, DARK_TEXT)
        screen.blit(text, text.get_rect(center=(side // 2, TOP + side // 2)))


def main() -> int:
    """Run the game loop until the window is closed."""
    pygame.init()
    game = Game()
    side = game.size * (TILE + GAP) + GAP
    screen = pygame.display.set_mode((side, side + TOP))
    pygame.display.set_caption("2048")
    fonts = {"tile": pygame.font.Font(None, 56), "small": pygame.font.Font(None, 36)}
    clock = pygame.time.Clock()
    best = load_best()
    running = True
    while running:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN
                                             and event.key == pygame.K_ESCAPE):
                running = False
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_r:
                game.reset()
            elif event.type == pygame.KEYDOWN and event.key in KEYS:
                game.move(KEYS[event.key])
                if game.score > best:
                    best = game.score
                    save_best(best)
        draw(screen, game, best, fonts)
        pygame.display.flip()
        clock.tick(30)
    pygame.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
