/* Austin Appleby's MurmurHash2 (public domain reference, MurmurHash2.cpp), seed 97. */
/* Build: gcc -O2 -o murmur2 murmur2.c; run: ./murmur2 a ab abc ... (prints "<arg> <hash>"). */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
static uint32_t MurmurHash2(const void *key, int len, uint32_t seed) {
  const uint32_t m = 0x5bd1e995; const int r = 24;
  uint32_t h = seed ^ len;
  const unsigned char *data = (const unsigned char *)key;
  while (len >= 4) {
    uint32_t k; memcpy(&k, data, 4);
    k *= m; k ^= k >> r; k *= m; h *= m; h ^= k; data += 4; len -= 4;
  }
  switch (len) {
  case 3: h ^= data[2] << 16;
  case 2: h ^= data[1] << 8;
  case 1: h ^= data[0]; h *= m;
  };
  h ^= h >> 13; h *= m; h ^= h >> 15;
  return h;
}
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) printf("%s %u\n", argv[i], MurmurHash2(argv[i], (int)strlen(argv[i]), 97));
  unsigned char bin[256]; for (int i = 0; i < 256; i++) bin[i] = (unsigned char)i;
  for (int n = 0; n <= 7; n++) printf("last-%d-of-0..255 %u\n", n, MurmurHash2(bin + 256 - n, n, 97));
  printf("all-of-0..255 %u\n", MurmurHash2(bin, 256, 97));
  return 0;
}
