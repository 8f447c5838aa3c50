"""Tic-tac-toe in a pygame window: click a cell to play X, the computer answers with O."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pygame

from tictactoe.rules import Game

CELL, MARGIN, STATUS = 140, 20, 60
SIDE = 3 * CELL + 2 * MARGIN
BACKGROUND, GRID, X_COLOUR, O_COLOUR, TEXT = ((245, 245, 240), (60, 60, 60), (200, 60, 60),
                                             (50, 100, 200), (30, 30, 30))
AI_DELAY_MS = 300  # a short pause so the computer's answer is visible


def cell_at(position: tuple[int, int]) -> int | None:
    """The cell (0-8) under a mouse position, or None outside the board."""
    x, y = position[0] - MARGIN, position[1] - MARGIN
    if 0 <= x < 3 * CELL and 0 <= y < 3 * CELL:
        return (y // CELL) * 3 + x // CELL
    return None


def draw(screen: pygame.Surface, game: Game, font: pygame.font.Font) -> None:
    """Draw the grid, the marks and the status line."""
    screen.fill(BACKGROUND)
    for i in (1, 2):
        pygame.draw.line(screen, GRID, (MARGIN + i * CELL, MARGIN),
                         (MARGIN + i * CELL, MARGIN + 3 * CELL), 4)
        pygame.draw.line(screen, GRID, (MARGIN, MARGIN + i * CELL),
                         (MARGIN + 3 * CELL, MARGIN + i * CELL), 4)
    for index, mark in enumerate(game.board):
        centre = (MARGIN + (index % 3) * CELL + CELL // 2, MARGIN + (index // 3) * CELL
                  + CELL // 2)
        if mark == "X":
            d = CELL // 3
            pygame.draw.line(screen, X_COLOUR, (centre[0] - d, centre[1] - d),
                             (centre[0] + d, centre[1] + d), 10)
            pygame.draw.line(screen, X_COLOUR, (centre[0] - d, centre[1] + d),
                             (centre[0] + d, centre[1] - d), 10)
        elif mark == "O":
            pygame.draw.circle(screen, O_COLOUR, centre, CELL // 3, 8)
    messages = {"X": "You win! Click to play again", "O": "Computer wins. Click to play again",
                "draw": "Draw. Click to play again", None: "Your move"}
    text = font.render(messages[game.winner], True, TEXT)
    screen.blit(text, text.get_rect(center=(SIDE // 2, SIDE + STATUS // 2 - 10)))


def main() -> int:
    """Run the game loop until the window is closed."""
    pygame.init()
    screen = pygame.display.set_mode((SIDE, SIDE + STATUS))
    pygame.display.set_caption("Tic-tac-toe")
    font = pygame.font.Font(None, 36)
    clock = pygame.time.Clock()
    game = Game()
    ai_due: int | None = None
    running = True
    while running:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN
                                             and event.key == pygame.K_ESCAPE):
                running = False
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                if game.winner is not None:
                    game = Game()
                    ai_due = None
                    continue
                cell = cell_at(event.pos)
                if ai_due is None and cell is not None and game.board[cell] is None:
                    game.play(cell)
                    if game.winner is None:
                        ai_due = pygame.time.get_ticks() + AI_DELAY_MS
        if ai_due is not None and pygame.time.get_ticks() >= ai_due:
            game.ai_move()
            ai_due = None
        draw(screen, game, font)
        pygame.display.flip()
        clock.tick(30)
    pygame.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
