/*
 * getrandom(2): lengths, the GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE flag
 * rules (GRND_INSECURE and GRND_RANDOM together, or unknown bits, give
 * EINVAL), and EFAULT for bad buffers.
 */
#include "conformance.h"

#include <sys/random.h>

static long raw_getrandom(void *buf, size_t len, unsigned int flags)
{
	return syscall(SYS_getrandom, buf, len, flags);
}

int main(void)
{
	conformance_init();
	static unsigned char big[1 << 20];
	unsigned char a[256], b[256];
	char label[128];

	EXPECT_VAL("getrandom(len 0)", raw_getrandom(a, 0, 0), 0);
	EXPECT_VAL("getrandom(NULL, len 0)", raw_getrandom(NULL, 0, 0), 0);
	EXPECT_VAL("getrandom(len 1)", raw_getrandom(a, 1, 0), 1);
	EXPECT_VAL("getrandom(len 16)", raw_getrandom(a, 16, 0), 16);
	EXPECT_VAL("getrandom(len 256)", raw_getrandom(a, 256, 0), 256);
	EXPECT_VAL("getrandom(len 256) again", raw_getrandom(b, 256, 0), 256);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	EXPECT_VAL("getrandom(len 1 MiB)", raw_getrandom(big, sizeof(big), 0), sizeof(big));
	size_t zeros = 0;
	for (size_t i = 0; i < sizeof(big); i++)
		zeros += big[i] == 0;
	/* About 4096 expected; the bound is loose. */
	CHECK(zeros > 1000 && zeros < 10000);

	unsigned int valid[] = {
		GRND_NONBLOCK,
		GRND_RANDOM,
		GRND_NONBLOCK | GRND_RANDOM,
		GRND_INSECURE,
		GRND_INSECURE | GRND_NONBLOCK,
	};
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		snprintf(label, sizeof(label), "getrandom(len 16, flags %#x)", valid[i]);
		EXPECT_VAL(label, raw_getrandom(a, 16, valid[i]), 16);
	}
	unsigned int invalid[] = {
		GRND_INSECURE | GRND_RANDOM,
		GRND_INSECURE | GRND_RANDOM | GRND_NONBLOCK,
		0x8,
		0x80,
		0x80000000u,
		~0u,
	};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		snprintf(label, sizeof(label), "getrandom(flags %#x)", invalid[i]);
		EXPECT_ERR(label, raw_getrandom(a, 16, invalid[i]), EINVAL);
	}
	/* Flags are checked before the buffer. */
	EXPECT_ERR("getrandom(bad ptr, flags 0x8)", raw_getrandom(BAD_PTR, 16, 0x8), EINVAL);

	EXPECT_ERR("getrandom(NULL, len 16)", raw_getrandom(NULL, 16, 0), EFAULT);
	EXPECT_ERR("getrandom(bad ptr, len 16)", raw_getrandom(BAD_PTR, 16, 0), EFAULT);
	EXPECT_ERR("getrandom(bad ptr, GRND_NONBLOCK)", raw_getrandom(BAD_PTR, 16, GRND_NONBLOCK),
		   EFAULT);

	/* The glibc wrapper and getentropy agree. */
	EXPECT_VAL("glibc getrandom(len 32)", getrandom(a, 32, 0), 32);
	EXPECT_VAL("getentropy(len 32)", getentropy(a, 32), 0);

	return conformance_done();
}
