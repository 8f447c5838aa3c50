"""Сапёр в окне pygame: ЛКМ — открыть, ПКМ — флажок, СКМ — аккорд, 1/2/3 — уровень, F2 — заново."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pygame

from minesweeper.field import LEVELS, Minesweeper

CELL, TOP = 28, 48
LEVEL_KEYS = {pygame.K_1: "beginner", pygame.K_2: "intermediate", pygame.K_3: "expert"}
CLOSED, OPENED, LINES, MINE, FLAG, TEXT = ((170, 170, 180), (225, 225, 225), (120, 120, 130),
                                           (20, 20, 20), (210, 40, 40), (20, 20, 20))
DIGITS = {"1": (0, 0, 220), "2": (0, 130, 0), "3": (220, 0, 0), "4": (0, 0, 120),
          "5": (130, 0, 0), "6": (0, 130, 130), "7": (0, 0, 0), "8": (110, 110, 110)}
FACES = {"playing": ":)", "won": "B)", "lost": ":("}


class Session:
    """The game on screen plus what the window adds: the level and the clock."""

    def __init__(self, level: str = "beginner") -> None:
        """Start a game at ``level`` (a key of LEVELS)."""
        self.level = level
        self.new_game()

    def new_game(self) -> None:
        """A fresh field at the current level; the clock waits for the first click."""
        self.game = Minesweeper(*LEVELS[self.level])
        self.started_ms: int | None = None
        self.stopped_s: int | None = None

    def seconds(self) -> int:
        """Seconds since the first click, frozen when the game ends."""
        if self.stopped_s is not None:
            return self.stopped_s
        if self.started_ms is None:
            return 0
        elapsed = min((pygame.time.get_ticks() - self.started_ms) // 1000, 999)
        if self.game.state != "playing":
            self.stopped_s = elapsed
        return elapsed

    def face_rect(self) -> pygame.Rect:
        """Where the smiley button is."""
        return pygame.Rect(self.game.width * CELL // 2 - 18, 8, 36, 32)

    def click(self, position: tuple[int, int], button: int) -> None:
        """Handle a mouse click on the smiley or on a cell."""
        if self.face_rect().collidepoint(position):
            self.new_game()
            return
        x, y = position[0] // CELL, (position[1] - TOP) // CELL
        if not (0 <= x < self.game.width and 0 <= y < self.game.height):
            return
        if self.started_ms is None and button == 1:
            self.started_ms = pygame.time.get_ticks()
        if button == 1:
            self.game.reveal(x, y)
        elif button == 3:
            self.game.toggle_flag(x, y)
        elif button == 2:
            self.game.chord(x, y)


def draw(screen: pygame.Surface, session: Session, font: pygame.font.Font) -> None:
    """Draw the counters, the smiley and the field."""
    game = session.game
    screen.fill(OPENED)
    screen.blit(font.render(f"{game.mines_left:03d}", True, FLAG), (8, 14))
    timer = font.render(f"{session.seconds():03d}", True, FLAG)
    screen.blit(timer, timer.get_rect(topright=(game.width * CELL - 8, 14)))
    face = session.face_rect()
    pygame.draw.rect(screen, CLOSED, face, border_radius=6)
    text = font.render(FACES[game.state], True, TEXT)
    screen.blit(text, text.get_rect(center=face.center))
    for y, row in enumerate(game.view()):
        for x, symbol in enumerate(row):
            rect = pygame.Rect(x * CELL, TOP + y * CELL, CELL, CELL)
            pygame.draw.rect(screen, CLOSED if symbol in "#F" else OPENED, rect)
            pygame.draw.rect(screen, LINES, rect, 1)
            if symbol == "F":
                pygame.draw.polygon(screen, FLAG, [(rect.x + 9, rect.y + 6), (rect.x + 21,
                                    rect.y + 11), (rect.x + 9, rect.y + 16)])
                pygame.draw.line(screen, MINE, (rect.x + 9, rect.y + 6), (rect.x + 9,
                                 rect.y + 22), 2)
            elif symbol == "*":
                pygame.draw.circle(screen, MINE, rect.center, CELL // 3)
            elif symbol in DIGITS:
                digit = font.render(symbol, True, DIGITS[symbol])
                screen.blit(digit, digit.get_rect(center=rect.center))


def main() -> int:
    """Run the game loop until the window is closed."""
    pygame.init()
    pygame.display.set_caption("Сапёр")
    font = pygame.font.Font(None, 30)
    clock = pygame.time.Clock()
    session = Session()
    screen = pygame.display.set_mode((session.game.width * CELL,
                                      session.game.height * CELL + TOP))
    running = True
    while running:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN
                                             and event.key == pygame.K_ESCAPE):
                running = False
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_F2:
                session.new_game()
            elif event.type == pygame.KEYDOWN and event.key in LEVEL_KEYS:
                session.level = LEVEL_KEYS[event.key]
                session.new_game()
                screen = pygame.display.set_mode((session.game.width * CELL,
                                                  session.game.height * CELL + TOP))
            elif event.type == pygame.MOUSEBUTTONDOWN:
                session.click(event.pos, event.button)
        draw(screen, session, font)
        pygame.display.flip()
        clock.tick(30)
    pygame.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
