import pygame

RED, BLUE, GREEN, WHITE = (220, 20, 20), (20, 40, 220), (30, 200, 60), (255, 255, 255)


def halves(tmp_path, name, size, depth=32):
    """An image whose left half is red and right half blue."""
    width, height = size
    surface = pygame.Surface(size, depth=depth)
    surface.fill(RED, (0, 0, width // 2, height))
    surface.fill(BLUE, (width // 2, 0, width - width // 2, height))
    path = tmp_path / name
    pygame.image.save(surface, str(path))
    return path


def close(color, expected, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(tuple(color)[:3], expected, strict=True))


def converted(run_app, source, target, *options):
    result = run_app(source, target, *options)
    assert result.returncode == 0, result.stderr
    return pygame.image.load(str(target))


def test_png_to_bmp_keeps_size_and_every_pixel(run_app, tmp_path):
    surface = pygame.Surface((5, 3))
    colors = [RED, BLUE, GREEN, WHITE, (0, 0, 0), (12, 34, 56)]
    for index in range(15):
        surface.set_at((index % 5, index // 5), colors[index % len(colors)])
    source = tmp_path / "pixels.png"
    pygame.image.save(surface, str(source))
    target = tmp_path / "pixels.bmp"
    image = converted(run_app, source, target)
    assert target.read_bytes()[:2] == b"BM"
    assert image.get_size() == (5, 3)
    for index in range(15):
        position = (index % 5, index // 5)
        assert tuple(image.get_at(position))[:3] == colors[index % len(colors)], position


def test_bmp_to_jpeg_and_png(run_app, tmp_path):
    source = halves(tmp_path, "photo.bmp", (64, 32))
    jpeg = converted(run_app, source, tmp_path / "photo.jpg")
    assert (tmp_path / "photo.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert jpeg.get_size() == (64, 32)
    assert close(jpeg.get_at((8, 16)), RED) and close(jpeg.get_at((56, 16)), BLUE)
    png = converted(run_app, source, tmp_path / "photo.png")
    assert (tmp_path / "photo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert tuple(png.get_at((8, 16)))[:3] == RED and tuple(png.get_at((56, 16)))[:3] == BLUE


def test_resize_to_exact_width_and_height(run_app, tmp_path):
    source = halves(tmp_path, "wide.png", (40, 20))
    image = converted(run_app, source, tmp_path / "small.png", "--width", "30", "--height", "12")
    assert image.get_size() == (30, 12)
    assert close(image.get_at((3, 6)), RED) and close(image.get_at((26, 6)), BLUE)
    palette = halves(tmp_path, "palette.png", (40, 20), depth=8)
    original = pygame.image.load(str(palette))
    left, right = tuple(original.get_at((0, 0)))[:3], tuple(original.get_at((39, 19)))[:3]
    image = converted(run_app, palette, tmp_path / "big.png", "--width", "80", "--height", "60")
    assert image.get_size() == (80, 60)
    assert close(image.get_at((5, 30)), left) and close(image.get_at((75, 30)), right)


def test_one_side_keeps_the_aspect_ratio(run_app, tmp_path):
    source = halves(tmp_path, "wide.png", (40, 20))
    assert converted(run_app, source, tmp_path / "w.png", "--width", "10").get_size() == (10, 5)
    assert converted(run_app, source, tmp_path / "h.png", "--height", "50").get_size() == (100, 50)


def test_bad_input_fails_cleanly_without_output(run_app, tmp_path):
    good = halves(tmp_path, "good.png", (8, 8))
    fake = tmp_path / "fake.png"
    fake.write_text("not an image", encoding="utf-8")
    cases = [
        (tmp_path / "missing.png", "out.bmp", ()),
        (fake, "out.bmp", ()),
        (good, "out.png", ("--width", "abc")),
        (good, "out.png", ("--height", "-5")),
        (good, "out.xyz", ()),
    ]
    for source, name, options in cases:
        target = tmp_path / name
        result = run_app(source, target, *options)
        assert result.returncode != 0, (source.name, name, options)
        assert result.stderr.strip() and "Traceback" not in result.stderr, result.stderr
        assert not target.exists(), (source.name, name, options)
