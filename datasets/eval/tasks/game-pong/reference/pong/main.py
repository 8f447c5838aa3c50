"""Play Pong in a pygame window: W/S for the left paddle, the computer (or Up/Down) right."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pygame

from pong.physics import (
    BALL_RADIUS,
    HEIGHT,
    LEFT_FACE,
    PADDLE_HEIGHT,
    PADDLE_WIDTH,
    RIGHT_FACE,
    WIDTH,
    Pong,
)

BACKGROUND, FOREGROUND, DIM = (12, 12, 16), (240, 240, 240), (80, 80, 90)
AI_DEAD_ZONE = 12  # px: the computer only moves when the ball is this far from its centre
AI_SKIP = 3  # the computer reacts on two frames out of three, so it is beatable


def computer_input(game: Pong, frame: int) -> int:
    """The right paddle's move when the computer plays it: follow the ball, a bit lazily."""
    if frame % AI_SKIP == 0 or game.velocity[0] <= 0:
        return 0
    gap = game.ball[1] - game.right_y
    return 0 if abs(gap) < AI_DEAD_ZONE else (1 if gap > 0 else -1)


def held(keys: pygame.key.ScancodeWrapper, up: int, down: int) -> int:
    """-1, 0 or +1 from a pair of held keys."""
    return int(keys[down]) - int(keys[up])


def draw(screen: pygame.Surface, game: Pong, font: pygame.font.Font) -> None:
    """Draw the field, the paddles, the ball and the score."""
    screen.fill(BACKGROUND)
    for y in range(0, HEIGHT, 30):
        pygame.draw.rect(screen, DIM, (WIDTH // 2 - 2, y + 5, 4, 16))
    half = PADDLE_HEIGHT // 2
    pygame.draw.rect(screen, FOREGROUND, (LEFT_FACE - PADDLE_WIDTH, game.left_y - half,
                                          PADDLE_WIDTH, PADDLE_HEIGHT))
    pygame.draw.rect(screen, FOREGROUND, (RIGHT_FACE, game.right_y - half, PADDLE_WIDTH,
                                          PADDLE_HEIGHT))
    pygame.draw.circle(screen, FOREGROUND, (round(game.ball[0]), round(game.ball[1])),
                       BALL_RADIUS)
    score = font.render(f"{game.left_score}   {game.right_score}", True, FOREGROUND)
    screen.blit(score, score.get_rect(midtop=(WIDTH // 2, 10)))
    if game.winner:
        text = font.render(f"{game.winner.title()} wins! Space: new match", True, FOREGROUND)
        screen.blit(text, text.get_rect(center=(WIDTH // 2, HEIGHT // 2 - 60)))


def main(argv: list[str] | None = None) -> int:
    """Run the match loop until the window is closed."""
    parser = argparse.ArgumentParser(prog="pong", description=__doc__)
    parser.add_argument("--two-players", action="store_true",
                        help="the right paddle is played with the Up/Down arrows")
    args = parser.parse_args(argv)
    pygame.init()
    screen = pygame.display.set_mode((WIDTH, HEIGHT))
    pygame.display.set_caption("Pong")
    font = pygame.font.Font(None, 48)
    clock = pygame.time.Clock()
    game = Pong()
    frame = 0
    running = True
    while running:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN
                                             and event.key == pygame.K_ESCAPE):
                running = False
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_SPACE and game.winner:
                game.reset()
        keys = pygame.key.get_pressed()
        right = (held(keys, pygame.K_UP, pygame.K_DOWN) if args.two_players
                 else computer_input(game, frame))
        dt = min(clock.tick(60) / 1000, 0.05)  # a stalled frame must not teleport the ball
        game.update(dt, held(keys, pygame.K_w, pygame.K_s), right)
        draw(screen, game, font)
        pygame.display.flip()
        frame += 1
    pygame.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
