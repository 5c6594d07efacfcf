// SPDX-License-Identifier: Apache-2.0
/*
 * hog MIB PASSES: a strict memory workload for the VM lab's swap scenarios.
 *
 * Allocates MIB MiB, then for each pass p in 1..PASSES writes a pattern derived from (page index, pass, word) to
 * every word of every page and reads every page back. Run in a memory cgroup smaller than MIB, the writes push
 * pages out to swap and the reads fault them back in, so a swap device that loses, mixes up or corrupts a page is
 * caught. Any mismatch: the first bad pages are printed and it exits 1. A new pattern each pass means a page that
 * was never written back (stale data from the previous pass) is caught too.
 *
 * Word w of a page holds seed(page, pass) + w: every word's expected value is unique to its page and pass, yet a
 * page compresses about 2.6x with zram's lzo-rle, closer to real memory than random data (which zram stores
 * uncompressed after wasting time on trying).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPORTED 10

static uint64_t page_seed(uint64_t page, uint64_t pass)
{
	/* splitmix64 finaliser: distinct, well-mixed seeds for every (page, pass) */
	uint64_t z = page * 0x9e3779b97f4a7c15ULL + pass * 0xbf58476d1ce4e5b9ULL + 1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_positive(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s == '\0' || *s == '-')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long mib, passes;
	size_t page_size, words_per_page, pages, page, w;
	uint64_t *buf;
	unsigned long pass;
	unsigned long bad_pages = 0;

	if (argc != 3 || parse_positive(argv[1], 1UL << 20, &mib) ||
	    parse_positive(argv[2], 1000000, &passes)) {
		fprintf(stderr, "usage: hog MIB PASSES   (both positive integers)\n");
		return 2;
	}
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	words_per_page = page_size / sizeof(uint64_t);
	pages = (size_t)mib * 1024 * 1024 / page_size;
	buf = malloc(pages * page_size);
	if (!buf) {
		fprintf(stderr, "hog: cannot allocate %lu MiB\n", mib);
		return 1;
	}

	for (pass = 1; pass <= passes; pass++) {
		double t0 = now(), t1;

		for (page = 0; page < pages; page++) {
			uint64_t *p = buf + page * words_per_page;
			uint64_t seed = page_seed(page, pass);

			for (w = 0; w < words_per_page; w++)
				p[w] = seed + w;
		}
		/* keep the compiler from forwarding the stores to the loads below: memory must be re-read */
		__asm__ __volatile__("" : : "r"(buf) : "memory");
		t1 = now();
		for (page = 0; page < pages; page++) {
			const uint64_t *p = buf + page * words_per_page;
			uint64_t seed = page_seed(page, pass);

			for (w = 0; w < words_per_page; w++) {
				uint64_t want = seed + w;

				if (p[w] != want) {
					if (bad_pages < MAX_REPORTED)
						fprintf(stderr,
							"hog: pass %lu page %zu word %zu: got %016" PRIx64
							" want %016" PRIx64 "\n",
							pass, page, w, p[w], want);
					bad_pages++;
					break;
				}
			}
		}
		printf("hog: pass %lu write %.3fs verify %.3fs\n", pass, t1 - t0, now() - t1);
		fflush(stdout);
		if (bad_pages) {
			printf("hog: %lu MiB x %lu passes FAILED in pass %lu, bad_pages=%lu\n", mib, passes, pass,
			       bad_pages);
			return 1;
		}
	}
	printf("hog: %lu MiB x %lu passes verified, bad_pages=0\n", mib, passes);
	free(buf);
	return 0;
}
