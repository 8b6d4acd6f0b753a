/*
 * /proc/self/fd links and /proc/self/maps name an open file by its path
 * now: renamed files show their new name, removed ones (unlinked, or
 * replaced by a rename, even with another link left) are marked
 * " (deleted)" (d_path). Run in scratch directories (scratch.h).
 */
#include "scratch.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* The name /proc/self/maps gives the mapping at `addr`. */
static void show_map(const char *label, void *addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	unsigned long start;
	while (f && fgets(line, sizeof line, f)) {
		if (sscanf(line, "%lx-", &start) == 1 && start == (unsigned long)addr) {
			line[strcspn(line, "\n")] = 0;
			show(label, line);
			fclose(f);
			return;
		}
	}
	printf("%s: no mapping\n", label);
	if (f)
		fclose(f);
}

static int make(const char *rel)
{
	int fd = open(at(rel), O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd >= 0 && write(fd, "data", 4) != 4) {
		close(fd);
		return -1;
	}
	return fd;
}

static void run(void)
{

	int f = EXPECT_OK("make f", make("f"));
	show_fd("f", f);
	EXPECT_OK("unlink f", unlink(at("f")));
	show_fd("f unlinked", f);
	char c;
	EXPECT_VAL("still readable", pread(f, &c, 1, 0), 1);

	int g = EXPECT_OK("make g", make("g"));
	int h = EXPECT_OK("make h", make("h"));
	close(h);
	EXPECT_OK("rename h over g", rename(at("h"), at("g")));
	show_fd("g replaced by a rename", g);

	int k = EXPECT_OK("make k", make("k"));
	EXPECT_OK("link k k2", link(at("k"), at("k2")));
	EXPECT_OK("unlink k", unlink(at("k")));
	show_fd("k unlinked, k2 left", k);
	int k2 = EXPECT_OK("open k2", open(at("k2"), O_RDONLY));
	show_fd("k2", k2);

	int m = EXPECT_OK("make m", make("m"));
	void *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, m, 0);
	CHECK(map != MAP_FAILED);
	show_map("m mapped", map);
	EXPECT_OK("mkdir d", mkdir(at("d"), 0755));
	EXPECT_OK("rename m d/m2", rename(at("m"), at("d/m2")));
	show_map("m renamed", map);
	show_fd("m renamed", m);
	EXPECT_OK("rename d e", rename(at("d"), at("e")));
	show_map("its directory renamed", map);
	EXPECT_OK("unlink e/m2", unlink(at("e/m2")));
	show_map("m unlinked", map);
	show_fd("m unlinked", m);
	munmap(map, 4096);

	int p = EXPECT_OK("make p", make("p"));
	void *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, p, 0);
	CHECK(priv != MAP_FAILED);
	close(p);
	EXPECT_OK("unlink p", unlink(at("p")));
	show_map("private map of an unlinked file", priv);
	munmap(priv, 4096);

	close(f);
	close(g);
	close(k);
	close(k2);
	close(m);
}

int main(void)
{
	conformance_init();
	return scratch_everywhere(run);
}
