/* The native half of vertexmeter's counting core (see core/__init__.py and docs/tokenizing.md).
 *
 * Splitter: cuts a text at every position no vocabulary piece spans (a character pair that occurs
 *   inside no piece) and sums per-chunk counts from a bounded chunk -> count cache; a miss asks the
 *   exact encoder (a Bpe object, called directly, or any Python callable).
 * Bpe: the Hugging Face `tokenizers` BPE algorithm (merge ranks, a heap ordered by rank then
 *   position, stale entries skipped when the pair no longer yields the same id, byte fallback,
 *   leftmost-longest special tokens), so that no 32 MB tokenizer.json needs parsing at run time.
 *
 * The pure-Python twin in core/pure.py implements the same two algorithms; tests hold both to the
 * reference engines id for id.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SPACE 0x20u
#define SPACE_MARK 0x2581u /* SentencePiece's "▁": the normalisers turn every space into it */

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* Entries headed for an open-addressing table: `hash` picks the slot, `value` is what the slot gets. */
typedef struct { uint64_t hash, value; } SlotEntry;

/* Sort entries by slot (hash & mask), stably, in place. Filling a table in this order walks it
 * front to back and reads the entries in sequence, so a quarter-million-entry table costs a few
 * ms of sequential memory traffic rather than a cache miss per entry. -1 when out of memory. */
static int sort_by_slot(SlotEntry *entries, size_t n, size_t mask) {
    SlotEntry *spare = (SlotEntry *)malloc((n + 1) * sizeof(SlotEntry)), *a = entries, *b = spare;
    if (!spare) return -1;
    int bits = 0;
    while (((size_t)1 << bits) <= mask) bits++;
    int passes = 0;
    for (int shift = 0; shift < bits; shift += 11, passes++) { /* LSD radix, 11 bits a pass */
        size_t pos[2048] = {0};
        for (size_t i = 0; i < n; i++) pos[((a[i].hash & mask) >> shift) & 2047]++;
        for (size_t d = 0, sum = 0; d < 2048; d++) { size_t c = pos[d]; pos[d] = sum; sum += c; }
        for (size_t i = 0; i < n; i++) b[pos[((a[i].hash & mask) >> shift) & 2047]++] = a[i];
        SlotEntry *t = a; a = b; b = t;
    }
    if (passes % 2) memcpy(entries, a, n * sizeof(SlotEntry));
    free(spare);
    return 0;
}

/* ---------------------------------------------------------------- a set of uint64 (pairs) */

typedef struct {
    uint64_t *keys; /* 0 = empty; stored keys are key + 1 */
    size_t mask;
} U64Set;

static int u64set_init_cap(U64Set *s, const uint64_t *keys, size_t n, size_t cap);

static int u64set_init(U64Set *s, const uint64_t *keys, size_t n) {
    size_t cap = 16;
    while (cap < n * 2 + 16) cap <<= 1;
    return u64set_init_cap(s, keys, n, cap);
}

/* cap: a power of two above 2n */
static int u64set_init_cap(U64Set *s, const uint64_t *keys, size_t n, size_t cap) {
    s->keys = (uint64_t *)calloc(cap, sizeof(uint64_t));
    if (!s->keys) return -1;
    s->mask = cap - 1;
    SlotEntry *entries = (SlotEntry *)malloc((n + 1) * sizeof(SlotEntry));
    if (!entries) { free(s->keys); s->keys = NULL; return -1; }
    for (size_t i = 0; i < n; i++) { entries[i].value = keys[i] + 1; entries[i].hash = mix64(keys[i] + 1); }
    if (sort_by_slot(entries, n, s->mask) < 0) { free(entries); free(s->keys); s->keys = NULL; return -1; }
    for (size_t j = 0; j < n; j++) {
        uint64_t k = entries[j].value;
        size_t h = entries[j].hash & s->mask;
        while (s->keys[h] && s->keys[h] != k) h = (h + 1) & s->mask;
        s->keys[h] = k;
    }
    free(entries);
    return 0;
}

static inline int u64set_has(const U64Set *s, uint64_t key) {
    uint64_t k = key + 1;
    size_t h = mix64(k) & s->mask;
    for (;;) {
        uint64_t v = s->keys[h];
        if (v == k) return 1;
        if (!v) return 0;
        h = (h + 1) & s->mask;
    }
}

/* ---------------------------------------------------------------- a set of pairs, by fingerprint */
/* The splitter's pair set, as 16-bit fingerprints in an open-addressed table (2 bytes a slot, ~128 KB
 * for 34k pairs: it stays in the core's cache, where the exact set of 8-byte keys took 1 MB). A pair
 * that is in the set is always found; one that is not is found with a probability of about 2^-15 per
 * slot probed. Such a false "joins" only leaves two characters in one chunk where they could have been
 * cut: cutting less is as exact as cutting at every allowed place (docs/tokenizing.md). */
/* Fingerprints sit in buckets of 8 (16 bytes, one aligned load): a probe reads one bucket almost
 * always (a bucket is full only past its share: the table is at most half full), compares all eight at
 * once and answers without a branch on which slot matched. */
#define FP_BUCKET 8
typedef struct { uint16_t *fps; size_t mask; /* buckets - 1 */ int shift; /* 64 - log2(buckets) */ } FpSet;

/* The pair set's hash of (a << 32 | b): one multiply, the whole hash in the splitter's scan (any hash is
 * exact here: a poor one would only cut less). The bucket is its top bits (they depend on every bit of
 * both characters), the fingerprint bits 32..47 (all of b, the low bits of a), never 0 (an open slot). */
static inline uint64_t pair_hash(uint64_t key) { return key * 0x9E3779B97F4A7C15ULL; }
static inline uint16_t fp_of(uint64_t h) { return (uint16_t)(h >> 32) | 1; }
static inline size_t fp_bucket(const FpSet *s, uint64_t h) { return (size_t)(h >> s->shift); }

static int fpset_init(FpSet *s, const uint64_t *keys, size_t n) {
    size_t buckets = 16;
    while (3 * buckets * FP_BUCKET < 4 * n + 16) buckets <<= 1; /* load <= 3/4 */
    s->fps = (uint16_t *)aligned_alloc(16, buckets * FP_BUCKET * sizeof(uint16_t));
    if (!s->fps) return -1;
    memset(s->fps, 0, buckets * FP_BUCKET * sizeof(uint16_t));
    s->mask = buckets - 1;
    s->shift = 64;
    for (size_t b = buckets; b > 1; b >>= 1) s->shift--;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = pair_hash(keys[i]);
        uint16_t f = fp_of(h);
        for (size_t at = fp_bucket(s, h);; at = (at + 1) & s->mask) {
            uint16_t *bucket = s->fps + at * FP_BUCKET;
            int k = 0;
            while (k < FP_BUCKET && bucket[k] && bucket[k] != f) k++;
            if (k < FP_BUCKET) { bucket[k] = f; break; }
        }
    }
    return 0;
}

#if defined(__SSE2__)
#include <emmintrin.h>
static inline int fpset_may_have(const FpSet *s, uint64_t key) {
    uint64_t h = pair_hash(key);
    __m128i want = _mm_set1_epi16((short)fp_of(h)), zero = _mm_setzero_si128();
    for (size_t at = fp_bucket(s, h);; at = (at + 1) & s->mask) {
        __m128i bucket = _mm_load_si128((const __m128i *)(s->fps + at * FP_BUCKET));
        int found = _mm_movemask_epi8(_mm_cmpeq_epi16(bucket, want));
        int open = _mm_movemask_epi8(_mm_cmpeq_epi16(bucket, zero));
        if (__builtin_expect((found | open) != 0, 1)) return found != 0; /* the answer as data, not a branch */
    }
}
#else
static inline int fpset_may_have(const FpSet *s, uint64_t key) {
    uint64_t h = pair_hash(key);
    uint16_t f = fp_of(h);
    for (size_t at = fp_bucket(s, h);; at = (at + 1) & s->mask) {
        const uint16_t *bucket = s->fps + at * FP_BUCKET;
        int found = 0, open = 0;
        for (int k = 0; k < FP_BUCKET; k++) { found |= bucket[k] == f; open |= bucket[k] == 0; }
        if (found) return 1;
        if (open) return 0;
    }
}
#endif

static int refuse_surrogates(PyObject *text);
static inline Py_UCS4 canon(Py_UCS4 cp);

/* ---------------------------------------------------------------- Bpe */

/* Merges: 8-byte slots (left << 20 | right) << 24 | (rank + 1), 0 empty; new ids by rank beside them.
 * ids below 2^20 and fewer than 2^24 - 1 merges (tables.py sends larger models to the engine). */
#define MERGE_ID_BITS 20
#define MERGE_RANK_BITS 24
typedef struct { int32_t rank; int32_t new_id; } MergeHit; /* rank -1: no merge */
typedef struct { uint32_t cp; int32_t id; } CharSlot; /* cp 0xFFFFFFFF = empty */

typedef struct {
    PyObject_HEAD
    uint64_t *merges; size_t merges_mask; int32_t *merge_ids;
    CharSlot *chars; size_t chars_mask;
    int32_t byte_ids[256];
    int32_t unk_id;
    Py_ssize_t n_specials;
    Py_UCS4 **specials; Py_ssize_t *special_lens; int32_t *special_ids;
    size_t n_merges; /* merge_ids' length */
    int from_image; Py_buffer image; /* tables borrowed from an image (see Bpe_from_image), not owned */
    uint8_t *char_counts; /* see encoder_char_count */
    uint8_t special_first[8192]; /* bit (cp & 0xFFFF): some special token may start with cp */
} BpeObject;

/* A binary heap of ITEM whose top is the item BEFORE(a, b) puts first: NAME##_push and NAME##_pop.
 * Every heap here orders by a rank and then the position, a strict order, so the merges come out the
 * same whatever the layout. */
#define DEFINE_HEAP(NAME, ITEM, BEFORE)                                                       \
    static void NAME##_push(ITEM *h, size_t *n, ITEM it) {                                    \
        size_t i = (*n)++;                                                                    \
        while (i) {                                                                           \
            size_t p = (i - 1) / 2;                                                           \
            if (!BEFORE(&it, &h[p])) break;                                                   \
            h[i] = h[p]; i = p;                                                               \
        }                                                                                     \
        h[i] = it;                                                                            \
    }                                                                                         \
    static ITEM NAME##_pop(ITEM *h, size_t *n) {                                              \
        ITEM top = h[0], last = h[--(*n)];                                                    \
        size_t i = 0, m = *n;                                                                 \
        for (;;) {                                                                            \
            size_t l = 2 * i + 1, r = l + 1, c = l;                                           \
            if (l >= m) break;                                                                \
            if (r < m && BEFORE(&h[r], &h[l])) c = r;                                         \
            if (!BEFORE(&h[c], &last)) break;                                                 \
            h[i] = h[c]; i = c;                                                               \
        }                                                                                     \
        if (m) h[i] = last;                                                                   \
        return top;                                                                           \
    }

/* len: the initial symbols it spans, 0 once merged into its left neighbour */
typedef struct { int32_t id; int32_t prev; int32_t next; int32_t len; } Sym;
/* size: the two symbols' len when pushed. The pair at pos is unchanged while that sum is: a symbol's id
 * changes only by absorbing its right neighbour (its len grows), and a right neighbour is replaced only
 * when it is absorbed, which makes the left one grow. So a stale entry is told without a probe. */
typedef struct { int32_t rank; int32_t pos; int32_t size; } HeapItem; /* the merged id: merge_ids[rank] */

static inline int heap_less(const HeapItem *a, const HeapItem *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

DEFINE_HEAP(heap, HeapItem, heap_less)

static inline MergeHit bpe_merge(const BpeObject *b, int32_t left, int32_t right) {
    uint64_t k = ((uint64_t)(uint32_t)left << MERGE_ID_BITS) | (uint32_t)right;
    size_t h = mix64(k + 1) & b->merges_mask;
    for (uint64_t v; (v = b->merges[h]) != 0; h = (h + 1) & b->merges_mask) {
        if ((v >> MERGE_RANK_BITS) == k) {
            int32_t rank = (int32_t)(v & ((1u << MERGE_RANK_BITS) - 1)) - 1;
            MergeHit hit = {rank, b->merge_ids[rank]};
            return hit;
        }
    }
    MergeHit none = {-1, -1};
    return none;
}

static inline void bpe_merge_prefetch(const BpeObject *b, int32_t left, int32_t right) {
    uint64_t k = ((uint64_t)(uint32_t)left << MERGE_ID_BITS) | (uint32_t)right;
    __builtin_prefetch(&b->merges[mix64(k + 1) & b->merges_mask]);
}

/* A character's id in an open-addressed table of CharSlots (-1: not in it); both BPE kinds keep one. */
static inline int32_t char_slot_id(const CharSlot *chars, size_t mask, Py_UCS4 cp) {
    size_t h = mix64((uint64_t)cp + 1) & mask;
    for (;;) {
        const CharSlot *s = &chars[h];
        if (s->cp == cp) return s->id;
        if (s->cp == 0xFFFFFFFFu) return -1;
        h = (h + 1) & mask;
    }
}

static inline int32_t bpe_char(const BpeObject *b, Py_UCS4 cp) { return char_slot_id(b->chars, b->chars_mask, cp); }

/* Growable int32 output; the first 64 ids live inline (most chunks need no allocation). Never copy one.
 * count_only: the ids are only counted, never stored (a count needs no memory per token). */
typedef struct { int32_t *v; size_t n, cap; int32_t local[64]; int count_only; } IdVec;

/* An IdVec that only counts (its inline array is never touched, so not zeroed either). */
#define COUNTING_IDVEC(name) IdVec name; name.v = NULL; name.n = name.cap = 0; name.count_only = 1

static void idvec_free(IdVec *o) { if (o->v != o->local) free(o->v); o->v = NULL; o->n = o->cap = 0; }

static int idvec_push(IdVec *o, int32_t x) {
    if (o->count_only) { o->n++; return 0; }
    if (!o->v) { o->v = o->local; o->cap = 64; }
    if (o->n == o->cap) {
        size_t cap = o->cap * 2;
        int32_t *v = (int32_t *)malloc(cap * sizeof(int32_t));
        if (!v) return -1;
        memcpy(v, o->v, o->n * sizeof(int32_t));
        if (o->v != o->local) free(o->v);
        o->v = v; o->cap = cap;
    }
    o->v[o->n++] = x;
    return 0;
}

static int encode_range_nogil(PyObject *encoder, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, IdVec *out);

/* BPE over text[start:end) (no special tokens inside), ids appended to out. The encoders below touch no
 * Python object and set no Python error (-1 means out of memory): they run with the GIL released. */
static int bpe_word(const BpeObject *b, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, IdVec *out) {
    Py_ssize_t n_chars = end - start;
    if (n_chars <= 0) return 0;
    size_t cap = (size_t)n_chars * 4; /* byte fallback: up to 4 symbols per character */
    if (cap > 256) { /* a long word: count its symbols exactly rather than reserve 4 per character */
        cap = 0;
        for (Py_ssize_t i = start; i < end; i++) {
            Py_UCS4 cp = PyUnicode_READ(kind, data, i);
            if (cp == SPACE) cp = SPACE_MARK;
            cap += bpe_char(b, cp) >= 0 ? 1 : cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
    }
    Sym stack_syms[256];
    HeapItem stack_heap[3 * 256 + 8]; /* pushes <= 3 per symbol: no growth for a small word */
    int small = cap <= 256;
    Sym *syms = small ? stack_syms : (Sym *)malloc(cap * sizeof(Sym));
    size_t hcap = small ? 3 * 256 + 8 : cap + 8;
    HeapItem *heap = small ? stack_heap : (HeapItem *)malloc(hcap * sizeof(HeapItem));
    if (!syms || !heap) {
        if (!small) { free(syms); free(heap); }
        return -1;
    }
    size_t n = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 cp = PyUnicode_READ(kind, data, i);
        if (cp == SPACE) cp = SPACE_MARK;
        int32_t id = bpe_char(b, cp);
        if (id >= 0) {
            syms[n].id = id; n++;
        } else {
            unsigned char buf[4]; int len;
            if (cp < 0x80) { buf[0] = (unsigned char)cp; len = 1; }
            else if (cp < 0x800) { buf[0] = 0xC0 | (cp >> 6); buf[1] = 0x80 | (cp & 0x3F); len = 2; }
            else if (cp < 0x10000) { buf[0] = 0xE0 | (cp >> 12); buf[1] = 0x80 | ((cp >> 6) & 0x3F); buf[2] = 0x80 | (cp & 0x3F); len = 3; }
            else { buf[0] = 0xF0 | (cp >> 18); buf[1] = 0x80 | ((cp >> 12) & 0x3F); buf[2] = 0x80 | ((cp >> 6) & 0x3F); buf[3] = 0x80 | (cp & 0x3F); len = 4; }
            for (int k = 0; k < len; k++) { syms[n].id = b->byte_ids[buf[k]]; n++; }
        }
    }
    for (size_t i = 0; i < n; i++) {
        syms[i].prev = (int32_t)i - 1;
        syms[i].next = (i + 1 < n) ? (int32_t)i + 1 : -1;
        syms[i].len = 1;
    }
    size_t hn = 0;
    for (size_t i = 0; i + 1 < n; i++) bpe_merge_prefetch(b, syms[i].id, syms[i + 1].id); /* overlap the misses */
    for (size_t i = 0; i + 1 < n; i++) {
        MergeHit m = bpe_merge(b, syms[i].id, syms[i + 1].id);
        if (m.rank >= 0) { HeapItem it = {m.rank, (int32_t)i, 2}; heap_push(heap, &hn, it); }
    }
    while (hn) {
        HeapItem top = heap_pop(heap, &hn);
        Sym *s = &syms[top.pos];
        if (!s->len || s->next < 0) continue;
        Sym *r = &syms[s->next];
        if (s->len + r->len != top.size) continue; /* a stale entry (see HeapItem) */
        s->id = b->merge_ids[top.rank];
        s->len += r->len;
        r->len = 0;
        s->next = r->next;
        if (r->next >= 0) syms[r->next].prev = top.pos;
        if (hn + 2 > hcap) {
            hcap *= 2;
            HeapItem *grown = heap == stack_heap ? (HeapItem *)malloc(hcap * sizeof(HeapItem))
                                                 : (HeapItem *)realloc(heap, hcap * sizeof(HeapItem));
            if (!grown) {
                if (syms != stack_syms) free(syms);
                if (heap != stack_heap) free(heap);
                return -1;
            }
            if (heap == stack_heap) memcpy(grown, stack_heap, hn * sizeof(HeapItem));
            heap = grown;
        }
        if (s->prev >= 0) bpe_merge_prefetch(b, syms[s->prev].id, s->id);
        if (s->next >= 0) bpe_merge_prefetch(b, s->id, syms[s->next].id);
        if (s->prev >= 0) {
            MergeHit ml = bpe_merge(b, syms[s->prev].id, s->id);
            if (ml.rank >= 0) { HeapItem it = {ml.rank, s->prev, syms[s->prev].len + s->len}; heap_push(heap, &hn, it); }
        }
        if (s->next >= 0) {
            MergeHit mr = bpe_merge(b, s->id, syms[s->next].id);
            if (mr.rank >= 0) { HeapItem it = {mr.rank, top.pos, s->len + syms[s->next].len}; heap_push(heap, &hn, it); }
        }
    }
    int rc = 0;
    for (int32_t i = n ? 0 : -1; i >= 0; i = syms[i].next) {
        if (idvec_push(out, syms[i].id) < 0) { rc = -1; break; }
    }
    if (syms != stack_syms) free(syms);
    if (heap != stack_heap) free(heap);
    return rc;
}

/* Special tokens first (leftmost-longest), BPE on the text between them. */
static int bpe_encode_range(const BpeObject *b, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, IdVec *out) {
    Py_ssize_t seg = start;
    if (b->n_specials) {
        for (Py_ssize_t i = start; i < end; i++) {
            Py_UCS4 cp = PyUnicode_READ(kind, data, i);
            Py_ssize_t best = -1, best_len = 0;
            for (Py_ssize_t s = 0; s < b->n_specials; s++) {
                Py_ssize_t len = b->special_lens[s];
                if (b->specials[s][0] != cp || len > end - i || len <= best_len) continue;
                Py_ssize_t k = 1;
                while (k < len && PyUnicode_READ(kind, data, i + k) == b->specials[s][k]) k++;
                if (k == len) { best = s; best_len = len; }
            }
            if (best >= 0) {
                if (bpe_word(b, kind, data, seg, i, out) < 0) return -1;
                if (idvec_push(out, b->special_ids[best]) < 0) { return -1; }
                i += best_len - 1;
                seg = i + 1;
            }
        }
    }
    return bpe_word(b, kind, data, seg, end, out);
}

static PyObject *ids_to_list(const IdVec *o) {
    PyObject *list = PyList_New((Py_ssize_t)o->n);
    if (!list) return NULL;
    for (size_t i = 0; i < o->n; i++) {
        PyObject *x = PyLong_FromLong(o->v[i]);
        if (!x) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, (Py_ssize_t)i, x);
    }
    return list;
}

static PyObject *Bpe_encode(BpeObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "encode() takes a str"); return NULL; }
    if (refuse_surrogates(text) < 0) return NULL;
    IdVec out = {NULL, 0, 0, {0}, 0};
    if (encode_range_nogil((PyObject *)self, PyUnicode_KIND(text), PyUnicode_DATA(text), 0, PyUnicode_GET_LENGTH(text), &out) < 0) {
        idvec_free(&out); return NULL;
    }
    PyObject *list = ids_to_list(&out);
    idvec_free(&out);
    return list;
}

/* The special tokens (list of (text, id)), matched leftmost-longest before BPE. */
static int bpe_set_specials(BpeObject *self, PyObject *specials_obj) {
    PyObject *seq = PySequence_Fast(specials_obj, "specials must be a sequence");
    if (!seq) return -1;
    Py_ssize_t ns = PySequence_Fast_GET_SIZE(seq);
    self->specials = (Py_UCS4 **)calloc((size_t)ns + 1, sizeof(Py_UCS4 *));
    self->special_lens = (Py_ssize_t *)calloc((size_t)ns + 1, sizeof(Py_ssize_t));
    self->special_ids = (int32_t *)calloc((size_t)ns + 1, sizeof(int32_t));
    if (!self->specials || !self->special_lens || !self->special_ids) { Py_DECREF(seq); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t s = 0; s < ns; s++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, s);
        PyObject *content; int id;
        if (!PyArg_ParseTuple(item, "Ui", &content, &id)) { Py_DECREF(seq); return -1; }
        if (PyUnicode_GET_LENGTH(content) == 0) { Py_DECREF(seq); PyErr_SetString(PyExc_ValueError, "empty special token"); return -1; }
        self->specials[s] = PyUnicode_AsUCS4Copy(content);
        if (!self->specials[s]) { Py_DECREF(seq); return -1; }
        self->special_lens[s] = PyUnicode_GET_LENGTH(content);
        self->special_ids[s] = id;
        self->n_specials = s + 1;
        unsigned first = self->specials[s][0] & 0xFFFFu;
        self->special_first[first >> 3] |= (uint8_t)(1u << (first & 7));
    }
    Py_DECREF(seq);
    return 0;
}

static int read_i32_buffer(PyObject *obj, Py_buffer *view, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) return -1;
    if (view->len % 4) { PyBuffer_Release(view); PyErr_Format(PyExc_ValueError, "%s: length not a multiple of 4", what); return -1; }
    return 0;
}

/* Bpe(chars: int32 [cp, id]*, merges: int32 [left, right, new_id]* in rank order,
 *     byte_ids: int32[256], unk_id: int, specials: list[tuple[str, int]]) */
static int Bpe_init(BpeObject *self, PyObject *args, PyObject *kwds) {
    PyObject *chars_obj, *merges_obj, *bytes_obj, *specials_obj;
    int unk_id;
    static char *kwlist[] = {"chars", "merges", "byte_ids", "unk_id", "specials", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOiO", kwlist, &chars_obj, &merges_obj, &bytes_obj, &unk_id, &specials_obj))
        return -1;
    if (self->merges) { PyErr_SetString(PyExc_RuntimeError, "Bpe is already initialised"); return -1; }
    Py_buffer cv, mv, bv;
    if (read_i32_buffer(chars_obj, &cv, "chars") < 0) return -1;
    if (read_i32_buffer(merges_obj, &mv, "merges") < 0) { PyBuffer_Release(&cv); return -1; }
    if (read_i32_buffer(bytes_obj, &bv, "byte_ids") < 0) { PyBuffer_Release(&cv); PyBuffer_Release(&mv); return -1; }
    int rc = -1;
    const int32_t *c = (const int32_t *)cv.buf, *m = (const int32_t *)mv.buf, *bi = (const int32_t *)bv.buf;
    size_t nc = (size_t)cv.len / 8, nm = (size_t)mv.len / 12;
    if (bv.len != 256 * 4 || cv.len % 8 || mv.len % 12) { PyErr_SetString(PyExc_ValueError, "malformed Bpe tables"); goto done; }
    if (nm >= ((size_t)1 << MERGE_RANK_BITS) - 1) { PyErr_SetString(PyExc_ValueError, "too many merges"); goto done; }
    size_t cap = 16;
    while (cap < nm * 2 + 16) cap <<= 1;
    self->merges = (uint64_t *)calloc(cap, sizeof(uint64_t));
    self->merge_ids = (int32_t *)malloc((nm + 1) * sizeof(int32_t));
    if (!self->merges || !self->merge_ids) { PyErr_NoMemory(); goto done; }
    self->merges_mask = cap - 1;
    SlotEntry *entries = (SlotEntry *)malloc((nm + 1) * sizeof(SlotEntry));
    if (!entries) { PyErr_NoMemory(); goto done; }
    for (size_t i = 0; i < nm; i++) {
        uint32_t left = (uint32_t)m[3 * i], right = (uint32_t)m[3 * i + 1];
        if (left >> MERGE_ID_BITS || right >> MERGE_ID_BITS) { free(entries); PyErr_SetString(PyExc_ValueError, "merge id too large"); goto done; }
        uint64_t k = ((uint64_t)left << MERGE_ID_BITS) | right;
        entries[i].hash = mix64(k + 1);
        entries[i].value = (k << MERGE_RANK_BITS) | (uint64_t)(i + 1);
        self->merge_ids[i] = m[3 * i + 2];
    }
    if (sort_by_slot(entries, nm, self->merges_mask) < 0) { free(entries); PyErr_NoMemory(); goto done; }
    for (size_t j = 0; j < nm; j++) { /* the stable sort keeps ranks ascending within a slot */
        uint64_t v = entries[j].value, k = v >> MERGE_RANK_BITS;
        size_t h = entries[j].hash & self->merges_mask;
        while (self->merges[h] && (self->merges[h] >> MERGE_RANK_BITS) != k) h = (h + 1) & self->merges_mask;
        /* a repeated pair keeps its last rank, as tokenizers' HashMap collect does (tables refuse them anyway) */
        self->merges[h] = v;
    }
    free(entries);
    cap = 16;
    while (cap < nc * 2 + 16) cap <<= 1;
    self->chars = (CharSlot *)malloc(cap * sizeof(CharSlot));
    if (!self->chars) { PyErr_NoMemory(); goto done; }
    memset(self->chars, 0xFF, cap * sizeof(CharSlot));
    self->chars_mask = cap - 1;
    for (size_t i = 0; i < nc; i++) {
        uint32_t cp = (uint32_t)c[2 * i];
        size_t h = mix64((uint64_t)cp + 1) & self->chars_mask;
        while (self->chars[h].cp != 0xFFFFFFFFu && self->chars[h].cp != cp) h = (h + 1) & self->chars_mask;
        self->chars[h].cp = cp; self->chars[h].id = c[2 * i + 1];
    }
    memcpy(self->byte_ids, bi, sizeof(self->byte_ids));
    self->unk_id = unk_id;
    if (bpe_set_specials(self, specials_obj) < 0) goto done;
    self->n_merges = nm;
    rc = 0;
done:
    PyBuffer_Release(&cv); PyBuffer_Release(&mv); PyBuffer_Release(&bv);
    return rc;
}

static void Bpe_dealloc(BpeObject *self) {
    free(self->char_counts);
    if (self->from_image) PyBuffer_Release(&self->image);
    else { free(self->merges); free(self->merge_ids); free(self->chars); }
    if (self->specials) for (Py_ssize_t s = 0; s < self->n_specials; s++) PyMem_Free(self->specials[s]);
    free(self->specials); free(self->special_lens); free(self->special_ids);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Bpe_image(BpeObject *self, PyObject *ignored);
static PyObject *Bpe_from_image(PyTypeObject *type, PyObject *args);

static PyMethodDef Bpe_methods[] = {
    {"encode", (PyCFunction)Bpe_encode, METH_O, "encode(text) -> list[int]: exact BPE ids of text."},
    {"image", (PyCFunction)Bpe_image, METH_NOARGS, "image() -> bytes: the built tables, for from_image."},
    {"from_image", (PyCFunction)Bpe_from_image, METH_VARARGS | METH_CLASS, "from_image(image, specials) -> Bpe over image's tables (borrowed)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject BpeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "vertexmeter.tokenizing.core._native.Bpe",
    .tp_basicsize = sizeof(BpeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Byte-pair encoder with tokenizers' merge-rank semantics.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Bpe_init,
    .tp_dealloc = (destructor)Bpe_dealloc,
    .tp_methods = Bpe_methods,
};


/* ---------------------------------------------------------------- SpBpe: SentencePiece's BPE */
/* Pieces are merged by score (highest first, then leftmost), a pair only when the concatenation
 * is a piece; user-defined pieces are matched longest-first before merging and never merge
 * (SentencePiece's frozen symbols); a final single character that is no piece becomes its UTF-8
 * byte pieces. Only models without UNUSED pieces reach this code (tables.py checks). */

/* By piece id. The hash table itself holds 8 bytes a slot (hash tag, id + 1): a failed lookup,
 * the common case while merging, touches only that compact table. */
typedef struct { uint32_t offset; float score; uint16_t len; uint8_t user; uint8_t valid; } PieceInfo;

typedef struct {
    PyObject_HEAD
    uint64_t *slots; size_t mask; /* 0 empty, else (hash >> 32) << 32 | (id + 1) */
    PieceInfo *info;
    Py_UCS4 *arena;
    int32_t byte_ids[256];
    int32_t unk_id;
    Py_ssize_t max_len, max_user_len;
    U64Set user_prefixes; /* range hashes of every prefix of a user-defined piece */
    /* range hashes of the user-defined pieces themselves (as many slots as user_prefixes): a prefix
     * that is none is passed without looking it up in the vocabulary (most of a walk: "▁", "<", "<b") */
    U64Set user_full;
    size_t n_pieces, arena_len; /* info's length - 1, arena's length in code points */
    int from_image; Py_buffer image; /* tables borrowed from an image (see SpBpe_from_image), not owned */
    uint8_t *char_counts; /* see encoder_char_count */
    /* The merge path by piece ids (sp_encode_ids), when the model allows it (sp_build_pairs): one probe
     * of `pairs` per candidate instead of hashing the concatenation and checking it against the arena. */
    uint64_t *pairs; size_t pairs_mask; /* 0 empty, else ((left << 20 | right) + 1) << 20 | merged id */
    CharSlot *chars; size_t chars_mask; /* single-character normal pieces: code point -> id */
    uint8_t user_first[8192]; /* bit (cp & 0xFFFF): some user-defined piece may start with cp */
} SpBpeObject;

#define RANGE_SEED 0x9E3779B97F4A7C15ULL
static inline uint64_t range_step(uint64_t h, Py_UCS4 cp) { return (h ^ cp) * 0x100000001B3ULL; }
static inline uint64_t range_final(uint64_t h, Py_ssize_t len) { return mix64(h ^ (uint64_t)len); }

static inline uint64_t range_hash(const Py_UCS4 *cp, Py_ssize_t len) {
    uint64_t h = RANGE_SEED;
    for (Py_ssize_t i = 0; i < len; i++) h = range_step(h, cp[i]);
    return range_final(h, len);
}

/* The id of the piece cp[0:len] (hash h), or -1. */
static inline int32_t sp_find_hashed(const SpBpeObject *b, const Py_UCS4 *cp, Py_ssize_t len, uint64_t h) {
    size_t i = h & b->mask;
    uint64_t tag = h >> 32;
    for (uint64_t v; (v = b->slots[i]) != 0; i = (i + 1) & b->mask) {
        if ((v >> 32) != tag) continue;
        int32_t id = (int32_t)(uint32_t)v - 1;
        const PieceInfo *p = &b->info[id];
        if (p->len != len) continue;
        const Py_UCS4 *a = b->arena + p->offset; /* pieces are short: a loop beats a memcmp call */
        Py_ssize_t k = 0;
        while (k < len && a[k] == cp[k]) k++;
        if (k == len) return id;
    }
    return -1;
}

static inline int32_t sp_find(const SpBpeObject *b, const Py_UCS4 *cp, Py_ssize_t len) {
    if (len > b->max_len) return -1;
    return sp_find_hashed(b, cp, len, range_hash(cp, len));
}

typedef struct { float score; int32_t left, right, size; } SpItem;

static inline int sp_before(const SpItem *a, const SpItem *b) { /* a pops before b */
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

DEFINE_HEAP(sp, SpItem, sp_before)

typedef struct { int32_t start, len, prev, next; int32_t frozen; } SpSym;

/* ---- the merge path by piece ids (models that pass sp_build_pairs' checks) */

#define PAIR_ID_BITS 20
#define MAX_USER_LEN_IDS 128 /* longer user-defined pieces: the range path below */

static inline int32_t sp_char(const SpBpeObject *b, Py_UCS4 cp) { return char_slot_id(b->chars, b->chars_mask, cp); }

/* The normal piece whose text is piece `left` then piece `right`, or -1. */
static inline int32_t sp_pair(const SpBpeObject *b, int32_t left, int32_t right) {
    uint64_t k = (((uint64_t)(uint32_t)left << PAIR_ID_BITS) | (uint32_t)right) + 1;
    size_t h = mix64(k) & b->pairs_mask;
    for (uint64_t v; (v = b->pairs[h]) != 0; h = (h + 1) & b->pairs_mask)
        if ((v >> PAIR_ID_BITS) == k) return (int32_t)(v & ((1u << PAIR_ID_BITS) - 1));
    return -1;
}

/* Start loading the slot sp_pair(left, right) reads first: the table is megabytes, so a probe is a
 * memory miss; asking for several before reading any overlaps them. */
static inline void sp_pair_prefetch(const SpBpeObject *b, int32_t left, int32_t right) {
    uint64_t k = (((uint64_t)(uint32_t)left << PAIR_ID_BITS) | (uint32_t)right) + 1;
    __builtin_prefetch(&b->pairs[mix64(k) & b->pairs_mask]);
}

static inline int user_may_start(const SpBpeObject *b, Py_UCS4 cp) {
    unsigned x = cp & 0xFFFFu;
    return (b->user_first[x >> 3] >> (x & 7)) & 1;
}



/* The longest user-defined piece among the walk's candidates (lengths `ls`, hashes `hs`, n of them,
 * shortest first) over text: the walk only asks the two hash sets, and the vocabulary is asked from the
 * longest candidate down, so a walk along a run of 31 spaces compares one piece, not 31. */
static inline int32_t sp_user_pick(const SpBpeObject *b, const Py_UCS4 *text, const Py_ssize_t *ls, const uint64_t *hs, int n, Py_ssize_t *len) {
    for (int k = n - 1; k >= 0; k--) {
        int32_t id = sp_find_hashed(b, text, ls[k], hs[k]);
        if (id >= 0 && b->info[id].user) { *len = ls[k]; return id; }
    }
    return -1;
}

#define USER_WALK_MAX 128 /* candidates held; past that, what is held is settled and the walk goes on */

/* The longest user-defined piece at the start of text[0:avail] (kind 0), or of a str's data from `at`
 * (kind != 0), read (as "▁" for spaces) into `window` only as far as the walk along the user-defined
 * pieces' prefixes goes: most walks stop after a character or two, where copying the longest
 * user-defined piece's worth of text first cost more than the walk. Its id and *len, else -1. Inlined
 * into the two callers below, each with its kind of text. */
static inline int32_t sp_user_walk(const SpBpeObject *b, const Py_UCS4 *text, int kind, const void *data, Py_ssize_t at, Py_ssize_t avail, Py_UCS4 *window, Py_ssize_t *len) {
    const Py_UCS4 *cps = kind ? window : text;
    Py_ssize_t most = b->max_user_len < avail ? b->max_user_len : avail;
    Py_ssize_t ls[USER_WALK_MAX]; uint64_t hs[USER_WALK_MAX];
    int n = 0;
    uint64_t h = RANGE_SEED;
    int32_t found = -1;
    for (Py_ssize_t l = 1; l <= most; l++) {
        if (kind) window[l - 1] = canon(PyUnicode_READ(kind, data, at + l - 1));
        h = range_step(h, cps[l - 1]);
        uint64_t fh = range_final(h, l);
        if (!u64set_has(&b->user_prefixes, fh)) break;
        if (!u64set_has(&b->user_full, fh)) continue;
        if (n == USER_WALK_MAX) {
            int32_t id = sp_user_pick(b, cps, ls, hs, n, len);
            if (id >= 0) found = id;
            n = 0;
        }
        ls[n] = l; hs[n++] = fh;
    }
    int32_t id = sp_user_pick(b, cps, ls, hs, n, len);
    return id >= 0 ? id : found;
}

static int32_t sp_user_at(const SpBpeObject *b, const Py_UCS4 *text, Py_ssize_t avail, Py_ssize_t *len) {
    return sp_user_walk(b, text, 0, NULL, 0, avail, NULL, len);
}

static int32_t sp_user_at_text(const SpBpeObject *b, int kind, const void *data, Py_ssize_t at, Py_ssize_t avail, Py_UCS4 *window, Py_ssize_t *len) {
    return sp_user_walk(b, NULL, kind, data, at, avail, window, len);
}

/* A symbol of the id path: id >= 0 a piece, else the character -1 - id that is no piece (it never
 * merges: sp_build_pairs checks that every character of a normal piece is a piece); len < 0: a
 * user-defined piece of -len characters (frozen). */
typedef struct { int32_t id, len, prev, next; } IdSym;
typedef struct { int32_t rank, left, right, size; } IdItem; /* rank = the merged piece's id */

static inline int id_before(const IdItem *a, const IdItem *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

DEFINE_HEAP(id, IdItem, id_before)

/* SentencePiece's BPE by piece ids: the same merges as the range path (highest score first, then
 * leftmost) when scores fall strictly with the id over the mergeable pieces, so that the merged id
 * orders the candidates; no copy of the text, no hashing of concatenations. */
static int sp_encode_ids(const SpBpeObject *b, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, IdVec *out) {
    Py_ssize_t n = end - start;
    IdSym stack_syms[128];
    IdItem stack_heap[3 * 128 + 8]; /* pushes <= 3 per symbol: no growth for a short chunk */
    int small = n <= 128;
    size_t hcap = small ? 3 * 128 + 8 : (size_t)n + 8, hn = 0;
    IdSym *syms = small ? stack_syms : (IdSym *)malloc((size_t)n * sizeof(IdSym));
    IdItem *heap = small ? stack_heap : (IdItem *)malloc(hcap * sizeof(IdItem));
    if (!syms || !heap) {
        if (!small) { free(syms); free(heap); }
        return -1;
    }
    int32_t ns = 0;
    for (Py_ssize_t i = start; i < end;) {
        Py_UCS4 cp = canon(PyUnicode_READ(kind, data, i));
        if (b->max_user_len && user_may_start(b, cp)) {
            Py_UCS4 window[MAX_USER_LEN_IDS];
            Py_ssize_t len = 0;
            int32_t id = sp_user_at_text(b, kind, data, i, end - i, window, &len);
            if (id >= 0) {
                syms[ns].id = id; syms[ns].len = -(int32_t)len;
                syms[ns].prev = ns - 1; syms[ns].next = ns + 1; ns++;
                i += len;
                continue;
            }
        }
        int32_t id = sp_char(b, cp);
        syms[ns].id = id >= 0 ? id : -1 - (int32_t)cp; syms[ns].len = 1;
        syms[ns].prev = ns - 1; syms[ns].next = ns + 1; ns++;
        i++;
    }
    syms[ns - 1].next = -1;
#define ID_PAIR(L, R) do { \
        int32_t l_ = (L), r_ = (R); \
        if (l_ >= 0 && r_ >= 0 && syms[l_].len > 0 && syms[r_].len > 0 && syms[l_].id >= 0 && syms[r_].id >= 0) { \
            int32_t p_ = sp_pair(b, syms[l_].id, syms[r_].id); \
            if (p_ >= 0) { \
                if (hn == hcap) { \
                    IdItem *g_ = small ? NULL : (IdItem *)realloc(heap, 2 * hcap * sizeof(IdItem)); \
                    if (!g_) { if (!small) { free(syms); free(heap); } return -1; } \
                    heap = g_; hcap *= 2; \
                } \
                IdItem it_ = {p_, l_, r_, syms[l_].len + syms[r_].len}; id_push(heap, &hn, it_); \
                /* should it merge, the merged piece's pairs with its neighbours are probed next: ask now */ \
                int32_t pl_ = syms[l_].prev, nr_ = syms[r_].next; \
                if (pl_ >= 0 && syms[pl_].id >= 0) sp_pair_prefetch(b, syms[pl_].id, p_); \
                if (nr_ >= 0 && syms[nr_].id >= 0) sp_pair_prefetch(b, p_, syms[nr_].id); \
            } \
        } \
    } while (0)
#define ID_PREFETCH(L, R) do { \
        int32_t l_ = (L), r_ = (R); \
        if (l_ >= 0 && r_ >= 0 && syms[l_].id >= 0 && syms[r_].id >= 0) sp_pair_prefetch(b, syms[l_].id, syms[r_].id); \
    } while (0)
    for (int32_t i = 1; i < ns; i++) ID_PREFETCH(i - 1, i);
    for (int32_t i = 1; i < ns; i++) ID_PAIR(i - 1, i);
    while (hn) {
        IdItem top = id_pop(heap, &hn);
        IdSym *l = &syms[top.left], *r = &syms[top.right];
        if (l->len <= 0 || r->len <= 0 || l->len + r->len != top.size) continue; /* stale */
        l->id = top.rank;
        l->len += r->len;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = top.left;
        r->len = 0;
        ID_PREFETCH(l->prev, top.left);
        ID_PREFETCH(top.left, l->next);
        ID_PAIR(l->prev, top.left);
        ID_PAIR(top.left, l->next);
    }
#undef ID_PAIR
#undef ID_PREFETCH
    int rc = 0;
    for (int32_t i = 0; i >= 0 && rc == 0; i = syms[i].next) {
        int32_t id = syms[i].id;
        if (id >= 0) { if (idvec_push(out, id) < 0) rc = -1; continue; }
        Py_UCS4 cp = (Py_UCS4)(-1 - id); /* byte fallback */
        int blen = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (out->count_only) { out->n += (size_t)blen; continue; }
        unsigned char buf[4];
        if (blen == 1) { buf[0] = (unsigned char)cp; }
        else if (blen == 2) { buf[0] = 0xC0 | (cp >> 6); buf[1] = 0x80 | (cp & 0x3F); }
        else if (blen == 3) { buf[0] = 0xE0 | (cp >> 12); buf[1] = 0x80 | ((cp >> 6) & 0x3F); buf[2] = 0x80 | (cp & 0x3F); }
        else { buf[0] = 0xF0 | (cp >> 18); buf[1] = 0x80 | ((cp >> 12) & 0x3F); buf[2] = 0x80 | ((cp >> 6) & 0x3F); buf[3] = 0x80 | (cp & 0x3F); }
        for (int q = 0; q < blen; q++) if (idvec_push(out, b->byte_ids[buf[q]]) < 0) { rc = -1; break; }
    }
    if (!small) { free(syms); free(heap); }
    return rc;
}

/* ---- the range path: any model */

static int sp_encode_range(const SpBpeObject *b, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, IdVec *out) {
    Py_ssize_t n = end - start;
    if (n <= 0) return 0;
    if (b->pairs) return sp_encode_ids(b, kind, data, start, end, out);
    /* pushes <= 3 per symbol (one per initial pair, two per merge), so the heap never grows */
    Py_UCS4 stack_text[96];
    SpSym stack_syms[96];
    SpItem stack_heap[3 * 96 + 8];
    int small = n <= 96;
    size_t hcap = small ? 3 * 96 + 8 : (size_t)n + 8, hn = 0; /* a long chunk's heap grows on demand */
    Py_UCS4 *text = small ? stack_text : (Py_UCS4 *)malloc((size_t)n * sizeof(Py_UCS4));
    SpSym *syms = small ? stack_syms : (SpSym *)malloc((size_t)n * sizeof(SpSym));
    SpItem *heap = small ? stack_heap : (SpItem *)malloc(hcap * sizeof(SpItem));
    if (!text || !syms || !heap) {
        if (!small) { free(text); free(syms); free(heap); }
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) text[i] = canon(PyUnicode_READ(kind, data, start + i));
    int32_t ns = 0;
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t len = 1; int frozen = 0;
        if (b->max_user_len && user_may_start(b, text[i])) { /* the longest user-defined piece here, walking only along their prefixes */
            Py_ssize_t l = 0;
            if (sp_user_at(b, text + i, n - i, &l) >= 0) { len = l; frozen = 1; }
        }
        syms[ns].start = (int32_t)i; syms[ns].len = (int32_t)len; syms[ns].frozen = frozen;
        syms[ns].prev = ns - 1; syms[ns].next = ns + 1;
        ns++; i += len;
    }
    syms[ns - 1].next = -1;
#define SP_PAIR(L, R) do { \
        int32_t l_ = (L), r_ = (R); \
        if (l_ >= 0 && r_ >= 0 && !syms[l_].frozen && !syms[r_].frozen) { \
            int32_t p_ = sp_find(b, text + syms[l_].start, syms[l_].len + syms[r_].len); \
            if (p_ >= 0 && hn == hcap) { \
                SpItem *g_ = small ? NULL : (SpItem *)realloc(heap, 2 * hcap * sizeof(SpItem)); \
                if (!g_) { if (!small) { free(text); free(syms); free(heap); } return -1; } \
                heap = g_; hcap *= 2; \
            } \
            if (p_ >= 0) { \
                SpItem it_ = {b->info[p_].score, l_, r_, syms[l_].len + syms[r_].len}; sp_push(heap, &hn, it_); \
            } \
        } \
    } while (0)
    for (int32_t i = 1; i < ns; i++) SP_PAIR(i - 1, i);
    while (hn) {
        SpItem top = sp_pop(heap, &hn);
        SpSym *l = &syms[top.left], *r = &syms[top.right];
        if (!l->len || !r->len || l->len + r->len != top.size) continue; /* stale */
        l->len += r->len;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = top.left;
        r->len = 0;
        SP_PAIR(l->prev, top.left);
        SP_PAIR(top.left, l->next);
    }
#undef SP_PAIR
    int rc = 0;
    for (int32_t i = 0; i >= 0 && rc == 0; i = syms[i].next) {
        int32_t id = sp_find(b, text + syms[i].start, syms[i].len);
        if (id >= 0) { if (idvec_push(out, id) < 0) rc = -1; continue; }
        if (out->count_only) { /* byte fallback: one piece per UTF-8 byte */
            for (int32_t k = 0; k < syms[i].len; k++) {
                Py_UCS4 cp = text[syms[i].start + k];
                out->n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            }
            continue;
        }
        for (int32_t k = 0; k < syms[i].len && rc == 0; k++) { /* byte fallback, character by character */
            Py_UCS4 cp = text[syms[i].start + k];
            unsigned char buf[4]; int blen;
            if (cp < 0x80) { buf[0] = (unsigned char)cp; blen = 1; }
            else if (cp < 0x800) { buf[0] = 0xC0 | (cp >> 6); buf[1] = 0x80 | (cp & 0x3F); blen = 2; }
            else if (cp < 0x10000) { buf[0] = 0xE0 | (cp >> 12); buf[1] = 0x80 | ((cp >> 6) & 0x3F); buf[2] = 0x80 | (cp & 0x3F); blen = 3; }
            else { buf[0] = 0xF0 | (cp >> 18); buf[1] = 0x80 | ((cp >> 12) & 0x3F); buf[2] = 0x80 | ((cp >> 6) & 0x3F); buf[3] = 0x80 | (cp & 0x3F); blen = 4; }
            for (int q = 0; q < blen; q++) if (idvec_push(out, b->byte_ids[buf[q]]) < 0) { rc = -1; break; }
        }
    }
    /* rc < 0: out of memory; the caller sets the error (it holds the GIL again) */
    if (!small) { free(text); free(syms); free(heap); }
    return rc;
}

static PyObject *SpBpe_encode(SpBpeObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "encode() takes a str"); return NULL; }
    if (refuse_surrogates(text) < 0) return NULL;
    IdVec out = {NULL, 0, 0, {0}, 0};
    if (encode_range_nogil((PyObject *)self, PyUnicode_KIND(text), PyUnicode_DATA(text), 0, PyUnicode_GET_LENGTH(text), &out) < 0) {
        idvec_free(&out); return NULL;
    }
    PyObject *list = ids_to_list(&out);
    idvec_free(&out);
    return list;
}

/* The id path's tables (pairs, chars), when the model allows it; else none (the range path runs).
 * It allows it when: ids fit PAIR_ID_BITS; user-defined pieces are at most MAX_USER_LEN_IDS long; the
 * scores of the normal pieces of two or more characters fall strictly as the id grows (then the lower
 * merged id is the higher score, and ties cannot occur); every character of such a piece is a piece.
 * A merge never makes a user-defined piece: every occurrence of one is matched (frozen) before merging,
 * or lies inside an earlier frozen match; so the pairs are the splits of normal pieces into two normal
 * pieces. -1 when out of memory. */
static int sp_build_pairs(SpBpeObject *self) {
    size_t n = self->n_pieces, n_pairs = 0, n_chars = 0;
    if (n >= ((size_t)1 << PAIR_ID_BITS) || self->max_user_len > MAX_USER_LEN_IDS) return 0;
    float last = 0; int seen = 0;
    for (size_t id = 0; id < n; id++) {
        const PieceInfo *p = &self->info[id];
        if (!p->valid || p->user) continue;
        if (p->len == 1) { n_chars++; continue; }
        if (seen && !(p->score < last)) return 0;
        last = p->score; seen = 1;
        const Py_UCS4 *cp = self->arena + p->offset;
        for (Py_ssize_t k = 0; k < p->len; k++) if (sp_find(self, cp + k, 1) < 0) return 0;
        n_pairs += (size_t)p->len - 1; /* at most */
    }
    SlotEntry *entries = (SlotEntry *)malloc((n_pairs + 1) * sizeof(SlotEntry));
    if (!entries) return -1;
    size_t m = 0;
    for (size_t id = 0; id < n; id++) {
        const PieceInfo *p = &self->info[id];
        if (!p->valid || p->user || p->len < 2) continue;
        const Py_UCS4 *cp = self->arena + p->offset;
        for (Py_ssize_t k = 1; k < p->len; k++) {
            int32_t l = sp_find(self, cp, k), r = sp_find(self, cp + k, p->len - k);
            if (l < 0 || r < 0 || self->info[l].user || self->info[r].user) continue;
            uint64_t key = (((uint64_t)l << PAIR_ID_BITS) | (uint64_t)r) + 1;
            entries[m].hash = mix64(key);
            entries[m++].value = key << PAIR_ID_BITS | (uint64_t)id;
        }
    }
    size_t cap = 16, ccap = 16;
    while (cap < m + m / 2 + 16) cap <<= 1; /* load <= 2/3: the table is ~8 MB for a 256k vocabulary */
    while (ccap < n_chars * 2 + 16) ccap <<= 1;
    uint64_t *pairs = (uint64_t *)calloc(cap, sizeof(uint64_t));
    CharSlot *chars = (CharSlot *)malloc(ccap * sizeof(CharSlot));
    if (!pairs || !chars || sort_by_slot(entries, m, cap - 1) < 0) { free(entries); free(pairs); free(chars); return -1; }
    for (size_t j = 0; j < m; j++) {
        size_t h = entries[j].hash & (cap - 1);
        while (pairs[h]) h = (h + 1) & (cap - 1);
        pairs[h] = entries[j].value;
    }
    free(entries);
    memset(chars, 0xFF, ccap * sizeof(CharSlot));
    for (size_t id = 0; id < n; id++) {
        const PieceInfo *p = &self->info[id];
        if (!p->valid || p->user || p->len != 1) continue;
        uint32_t c = self->arena[p->offset];
        size_t h = mix64((uint64_t)c + 1) & (ccap - 1);
        while (chars[h].cp != 0xFFFFFFFFu && chars[h].cp != c) h = (h + 1) & (ccap - 1);
        if (chars[h].cp == c) continue; /* a duplicate piece: the lower id, as sp_find */
        chars[h].cp = c; chars[h].id = (int32_t)id;
    }
    self->pairs = pairs; self->pairs_mask = cap - 1;
    self->chars = chars; self->chars_mask = ccap - 1;
    return 0;
}

/* SpBpe(vocab_offsets: uint32[n + 1], vocab_blob: UTF-8, scores: float32[n], types: uint8[n],
 *       byte_ids: int32[256], unk_id: int). Types: 1 normal, 4 user-defined take part; others not. */
static int SpBpe_init(SpBpeObject *self, PyObject *args, PyObject *kwds) {
    PyObject *off_obj, *blob_obj, *score_obj, *type_obj, *bytes_obj;
    int unk_id;
    static char *kwlist[] = {"vocab_offsets", "vocab_blob", "scores", "types", "byte_ids", "unk_id", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOi", kwlist, &off_obj, &blob_obj, &score_obj, &type_obj, &bytes_obj, &unk_id))
        return -1;
    if (self->slots) { PyErr_SetString(PyExc_RuntimeError, "SpBpe is already initialised"); return -1; }
    Py_buffer ov, bv, sv, tv, yv;
    int got = 0, rc = -1;
    if (PyObject_GetBuffer(off_obj, &ov, PyBUF_SIMPLE) < 0) goto done;
    got = 1;
    if (PyObject_GetBuffer(blob_obj, &bv, PyBUF_SIMPLE) < 0) goto done;
    got = 2;
    if (PyObject_GetBuffer(score_obj, &sv, PyBUF_SIMPLE) < 0) goto done;
    got = 3;
    if (PyObject_GetBuffer(type_obj, &tv, PyBUF_SIMPLE) < 0) goto done;
    got = 4;
    if (PyObject_GetBuffer(bytes_obj, &yv, PyBUF_SIMPLE) < 0) goto done;
    got = 5;
    size_t n = (size_t)tv.len;
    if ((size_t)ov.len != (n + 1) * 4 || (size_t)sv.len != n * 4 || yv.len != 256 * 4) {
        PyErr_SetString(PyExc_ValueError, "malformed SpBpe tables"); goto done;
    }
    const uint32_t *off = (const uint32_t *)ov.buf;
    const unsigned char *blob = (const unsigned char *)bv.buf;
    const float *scores = (const float *)sv.buf;
    const uint8_t *types = (const uint8_t *)tv.buf;
    if (off[n] > (uint32_t)bv.len) { PyErr_SetString(PyExc_ValueError, "malformed SpBpe offsets"); goto done; }
    self->arena = (Py_UCS4 *)malloc(((size_t)off[n] + 1) * sizeof(Py_UCS4));
    size_t cap = 16;
    while (cap < n * 2 + 16) cap <<= 1;
    self->slots = (uint64_t *)calloc(cap, sizeof(uint64_t));
    self->info = (PieceInfo *)calloc(n + 1, sizeof(PieceInfo));
    if (!self->arena || !self->slots || !self->info) { PyErr_NoMemory(); goto done; }
    self->mask = cap - 1;
    size_t firsts_cap = 1024, n_firsts = 0, used = 0, n_live = 0;
    uint64_t *firsts = (uint64_t *)malloc(firsts_cap * sizeof(uint64_t));
    SlotEntry *entries = (SlotEntry *)malloc((n + 1) * sizeof(SlotEntry));
    if (!firsts || !entries) { free(firsts); free(entries); PyErr_NoMemory(); goto done; }
#define SP_INIT_FAIL(setter) do { free(firsts); free(entries); setter; goto done; } while (0)
    /* pass 1, by id: the pieces as code points, their info, the user pieces' prefixes */
    for (size_t id = 0; id < n; id++) {
        if (types[id] != 1 && types[id] != 4) continue;
        size_t at = used;
        for (uint32_t k = off[id]; k < off[id + 1];) { /* UTF-8 -> code points (the blob came from Python str) */
            unsigned char c = blob[k];
            Py_UCS4 cp; int extra;
            if (c < 0x80) { cp = c; extra = 0; } else if (c < 0xE0) { cp = c & 0x1F; extra = 1; }
            else if (c < 0xF0) { cp = c & 0x0F; extra = 2; } else { cp = c & 0x07; extra = 3; }
            if (k + 1 + (uint32_t)extra > off[id + 1]) SP_INIT_FAIL(PyErr_SetString(PyExc_ValueError, "bad UTF-8 piece"));
            for (int q = 1; q <= extra; q++) cp = (cp << 6) | (blob[k + q] & 0x3F);
            self->arena[used++] = cp;
            k += 1 + (uint32_t)extra;
        }
        Py_ssize_t len = (Py_ssize_t)(used - at);
        if (len == 0 || len > 0xFFFF) { used = at; continue; }
        /* a piece holding a literal space can never match: the text's spaces are all "▁" by now */
        PieceInfo *s = &self->info[id];
        s->offset = (uint32_t)at; s->len = (uint16_t)len; s->valid = 1; s->user = types[id] == 4; s->score = scores[id];
        uint64_t h = range_hash(self->arena + at, len);
        entries[n_live].hash = h;
        entries[n_live++].value = (h >> 32) << 32 | (uint64_t)(id + 1);
        if (len > self->max_len) self->max_len = len;
        if (s->user) {
            if (len > self->max_user_len) self->max_user_len = len;
            unsigned first = self->arena[at] & 0xFFFFu;
            self->user_first[first >> 3] |= (uint8_t)(1u << (first & 7));
            uint64_t ph = RANGE_SEED;
            for (Py_ssize_t k = 0; k < len; k++) {
                if (n_firsts == firsts_cap) {
                    firsts_cap *= 2;
                    uint64_t *g = (uint64_t *)realloc(firsts, firsts_cap * sizeof(uint64_t));
                    if (!g) SP_INIT_FAIL(PyErr_NoMemory());
                    firsts = g;
                }
                ph = range_step(ph, self->arena[at + k]);
                firsts[n_firsts++] = range_final(ph, k + 1);
            }
        }
    }
    /* pass 2, by slot (see sort_by_slot): the hash table. Of two equal pieces the lower id wins, as
     * the stable sort keeps ids ascending (a duplicate: sentencepiece refuses such a model; tables.py
     * too); its info stays but nothing reaches it. */
    if (sort_by_slot(entries, n_live, self->mask) < 0) SP_INIT_FAIL(PyErr_NoMemory());
    for (size_t j = 0; j < n_live; j++) {
        uint64_t value = entries[j].value, tag = value >> 32;
        size_t i = entries[j].hash & self->mask;
        int dup = 0;
        for (uint64_t v; (v = self->slots[i]) != 0; i = (i + 1) & self->mask) {
            if ((v >> 32) != tag) continue;
            const PieceInfo *o = &self->info[(int32_t)(uint32_t)v - 1], *p = &self->info[(int32_t)(uint32_t)value - 1];
            if (o->len == p->len && !memcmp(self->arena + o->offset, self->arena + p->offset, (size_t)p->len * sizeof(Py_UCS4))) { dup = 1; break; }
        }
        if (!dup) self->slots[i] = value;
    }
#undef SP_INIT_FAIL
    free(entries);
    self->n_pieces = n;
    self->arena_len = used;
    int set_rc = u64set_init(&self->user_prefixes, firsts, n_firsts);
    if (set_rc == 0) {
        size_t n_full = 0; /* firsts has room: there are at least as many prefixes as pieces */
        for (size_t id = 0; id < n; id++)
            if (self->info[id].valid && self->info[id].user) firsts[n_full++] = range_hash(self->arena + self->info[id].offset, self->info[id].len);
        set_rc = u64set_init_cap(&self->user_full, firsts, n_full, self->user_prefixes.mask + 1);
    }
    free(firsts);
    if (set_rc < 0) { PyErr_NoMemory(); goto done; }
    memcpy(self->byte_ids, yv.buf, sizeof(self->byte_ids));
    self->unk_id = unk_id;
    if (sp_build_pairs(self) < 0) { PyErr_NoMemory(); goto done; }
    rc = 0;
done:
    if (got >= 1) PyBuffer_Release(&ov);
    if (got >= 2) PyBuffer_Release(&bv);
    if (got >= 3) PyBuffer_Release(&sv);
    if (got >= 4) PyBuffer_Release(&tv);
    if (got >= 5) PyBuffer_Release(&yv);
    return rc;
}

static void SpBpe_dealloc(SpBpeObject *self) {
    free(self->char_counts);
    if (self->from_image) PyBuffer_Release(&self->image);
    else { free(self->slots); free(self->info); free(self->arena); free(self->user_prefixes.keys); free(self->user_full.keys); free(self->pairs); free(self->chars); }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *SpBpe_image(SpBpeObject *self, PyObject *ignored);
static PyObject *SpBpe_from_image(PyTypeObject *type, PyObject *buffer);

static PyMethodDef SpBpe_methods[] = {
    {"encode", (PyCFunction)SpBpe_encode, METH_O, "encode(text) -> list[int]: SentencePiece BPE ids of text."},
    {"image", (PyCFunction)SpBpe_image, METH_NOARGS, "image() -> bytes: the built tables, for from_image."},
    {"from_image", (PyCFunction)SpBpe_from_image, METH_O | METH_CLASS, "from_image(image) -> SpBpe over image's tables (borrowed)."},
    {NULL, NULL, 0, NULL},
};

static PyObject *SpBpe_by_ids(SpBpeObject *self, void *Py_UNUSED(closure)) { return PyBool_FromLong(self->pairs != NULL); }

static PyGetSetDef SpBpe_getset[] = {
    {"merges_by_ids", (getter)SpBpe_by_ids, NULL, "Whether merges take the id path (see sp_build_pairs).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject SpBpeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "vertexmeter.tokenizing.core._native.SpBpe",
    .tp_basicsize = sizeof(SpBpeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Byte-pair encoder with SentencePiece's score semantics.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)SpBpe_init,
    .tp_dealloc = (destructor)SpBpe_dealloc,
    .tp_methods = SpBpe_methods,
    .tp_getset = SpBpe_getset,
};

/* ---------------------------------------------------------------- images */
/* An encoder's built tables as one flat, 8-byte aligned block (`image()`), and an encoder that
 * borrows them from such a block (`from_image(...)`), typically a memory-mapped cache file: loading
 * a model is then mapping a file rather than building quarter-million-entry hash tables. The block
 * is machine-specific (struct sizes, byte order: IMAGE_ABI) and trusted once its shape fits: the
 * caller checks the file's hash first (tables.py). */
#define IMAGE_HEAD 10 /* uint64 words: magic, ABI, then eight per-type fields */
#define IMAGE_ABI ((uint64_t)sizeof(PieceInfo) | (uint64_t)sizeof(CharSlot) << 8 | (uint64_t)sizeof(Py_UCS4) << 16 | (uint64_t)0x0104 << 24)
static const uint64_t BPE_IMAGE_MAGIC = 0x3145504232564D56ULL;   /* "VM2BPE1" */
static const uint64_t SPBPE_IMAGE_MAGIC = 0x3150425332564D56ULL; /* "VM2SBP1" */

static inline size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

typedef struct { const void *data; size_t len; } ImagePart;

static PyObject *image_join(const uint64_t head[IMAGE_HEAD], const ImagePart *parts, int n_parts) {
    size_t total = IMAGE_HEAD * sizeof(uint64_t);
    for (int i = 0; i < n_parts; i++) total += pad8(parts[i].len);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (!out) return NULL;
    char *at = PyBytes_AS_STRING(out);
    memset(at, 0, total);
    memcpy(at, head, IMAGE_HEAD * sizeof(uint64_t));
    at += IMAGE_HEAD * sizeof(uint64_t);
    for (int i = 0; i < n_parts; i++) { if (parts[i].len) memcpy(at, parts[i].data, parts[i].len); at += pad8(parts[i].len); }
    return out;
}

/* Take a buffer holding an image of `magic`: its head words; -1 with ValueError when it is none. */
static int image_open(PyObject *buffer, Py_buffer *view, uint64_t magic, uint64_t head[IMAGE_HEAD]) {
    if (PyObject_GetBuffer(buffer, view, PyBUF_SIMPLE) < 0) return -1;
    if ((size_t)view->len < IMAGE_HEAD * sizeof(uint64_t) || ((uintptr_t)view->buf & 7)) {
        PyBuffer_Release(view); PyErr_SetString(PyExc_ValueError, "not an aligned encoder image"); return -1;
    }
    memcpy(head, view->buf, IMAGE_HEAD * sizeof(uint64_t));
    if (head[0] != magic || head[1] != IMAGE_ABI) {
        PyBuffer_Release(view); PyErr_SetString(PyExc_ValueError, "encoder image of another kind, version or machine"); return -1;
    }
    return 0;
}

/* The next part of `len` bytes at *pos, or NULL (ValueError) past the end. */
static const void *image_part(const Py_buffer *view, size_t *pos, size_t len) {
    if (len > (size_t)view->len || *pos > (size_t)view->len - len) { PyErr_SetString(PyExc_ValueError, "encoder image is truncated"); return NULL; }
    const void *p = (const char *)view->buf + *pos;
    *pos += pad8(len);
    return p;
}

static inline int is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

static PyObject *Bpe_image(BpeObject *self, PyObject *Py_UNUSED(ignored)) {
    if (!self->merges) { PyErr_SetString(PyExc_RuntimeError, "Bpe is not initialised"); return NULL; }
    uint64_t head[IMAGE_HEAD] = {BPE_IMAGE_MAGIC, IMAGE_ABI, self->merges_mask + 1, self->n_merges, self->chars_mask + 1,
                                 (uint64_t)(int64_t)self->unk_id, 0, 0, 0, 0};
    ImagePart parts[] = {
        {self->byte_ids, sizeof(self->byte_ids)},
        {self->merges, (self->merges_mask + 1) * sizeof(uint64_t)},
        {self->chars, (self->chars_mask + 1) * sizeof(CharSlot)},
        {self->merge_ids, self->n_merges * sizeof(int32_t)},
    };
    return image_join(head, parts, 4);
}

/* Bpe.from_image(image, specials): a Bpe over the tables in `image` (kept referenced, not copied). */
static PyObject *Bpe_from_image(PyTypeObject *type, PyObject *args) {
    PyObject *buffer, *specials_obj;
    if (!PyArg_ParseTuple(args, "OO", &buffer, &specials_obj)) return NULL;
    BpeObject *self = (BpeObject *)PyType_GenericNew(type, NULL, NULL);
    if (!self) return NULL;
    uint64_t head[IMAGE_HEAD];
    if (image_open(buffer, &self->image, BPE_IMAGE_MAGIC, head) < 0) { Py_DECREF(self); return NULL; }
    self->from_image = 1;
    size_t pos = IMAGE_HEAD * sizeof(uint64_t);
    const void *bytes;
    if (!is_pow2(head[2]) || !is_pow2(head[4]) || head[3] >= head[2]) { PyErr_SetString(PyExc_ValueError, "malformed Bpe image"); goto fail; }
    if (!(bytes = image_part(&self->image, &pos, sizeof(self->byte_ids)))) goto fail;
    memcpy(self->byte_ids, bytes, sizeof(self->byte_ids));
    if (!(self->merges = (uint64_t *)image_part(&self->image, &pos, head[2] * sizeof(uint64_t)))) goto fail;
    if (!(self->chars = (CharSlot *)image_part(&self->image, &pos, head[4] * sizeof(CharSlot)))) goto fail;
    if (!(self->merge_ids = (int32_t *)image_part(&self->image, &pos, head[3] * sizeof(int32_t)))) goto fail;
    self->merges_mask = head[2] - 1; self->n_merges = head[3]; self->chars_mask = head[4] - 1;
    self->unk_id = (int32_t)(int64_t)head[5];
    if (bpe_set_specials(self, specials_obj) < 0) goto fail;
    return (PyObject *)self;
fail:
    Py_DECREF(self); /* releases the image */
    return NULL;
}

static PyObject *SpBpe_image(SpBpeObject *self, PyObject *Py_UNUSED(ignored)) {
    if (!self->slots) { PyErr_SetString(PyExc_RuntimeError, "SpBpe is not initialised"); return NULL; }
    uint64_t head[IMAGE_HEAD] = {SPBPE_IMAGE_MAGIC, IMAGE_ABI, self->n_pieces, self->mask + 1, self->arena_len,
                                 self->user_prefixes.mask + 1,
                                 (uint64_t)self->max_len | (uint64_t)self->max_user_len << 32, (uint64_t)(int64_t)self->unk_id,
                                 self->pairs ? self->pairs_mask + 1 : 0, self->pairs ? self->chars_mask + 1 : 0};
    ImagePart parts[] = {
        {self->byte_ids, sizeof(self->byte_ids)},
        {self->slots, (self->mask + 1) * sizeof(uint64_t)},
        {self->user_prefixes.keys, (self->user_prefixes.mask + 1) * sizeof(uint64_t)},
        {self->user_full.keys, (self->user_prefixes.mask + 1) * sizeof(uint64_t)},
        {self->info, (self->n_pieces + 1) * sizeof(PieceInfo)},
        {self->arena, self->arena_len * sizeof(Py_UCS4)},
        {self->user_first, sizeof(self->user_first)},
        {self->pairs, self->pairs ? (self->pairs_mask + 1) * sizeof(uint64_t) : 0},
        {self->chars, self->pairs ? (self->chars_mask + 1) * sizeof(CharSlot) : 0},
    };
    return image_join(head, parts, 9);
}

/* SpBpe.from_image(image): an SpBpe over the tables in `image` (kept referenced, not copied). */
static PyObject *SpBpe_from_image(PyTypeObject *type, PyObject *buffer) {
    SpBpeObject *self = (SpBpeObject *)PyType_GenericNew(type, NULL, NULL);
    if (!self) return NULL;
    uint64_t head[IMAGE_HEAD];
    if (image_open(buffer, &self->image, SPBPE_IMAGE_MAGIC, head) < 0) { Py_DECREF(self); return NULL; }
    self->from_image = 1;
    size_t pos = IMAGE_HEAD * sizeof(uint64_t);
    const void *bytes;
    if (!is_pow2(head[3]) || !is_pow2(head[5]) || head[2] >= head[3]) { PyErr_SetString(PyExc_ValueError, "malformed SpBpe image"); goto fail; }
    if (!(bytes = image_part(&self->image, &pos, sizeof(self->byte_ids)))) goto fail;
    memcpy(self->byte_ids, bytes, sizeof(self->byte_ids));
    if (!(self->slots = (uint64_t *)image_part(&self->image, &pos, head[3] * sizeof(uint64_t)))) goto fail;
    if (!(self->user_prefixes.keys = (uint64_t *)image_part(&self->image, &pos, head[5] * sizeof(uint64_t)))) goto fail;
    if (!(self->user_full.keys = (uint64_t *)image_part(&self->image, &pos, head[5] * sizeof(uint64_t)))) goto fail;
    self->user_full.mask = head[5] - 1;
    if (!(self->info = (PieceInfo *)image_part(&self->image, &pos, (head[2] + 1) * sizeof(PieceInfo)))) goto fail;
    if (!(self->arena = (Py_UCS4 *)image_part(&self->image, &pos, head[4] * sizeof(Py_UCS4)))) goto fail;
    self->n_pieces = head[2]; self->mask = head[3] - 1; self->arena_len = head[4]; self->user_prefixes.mask = head[5] - 1;
    self->max_len = (Py_ssize_t)(head[6] & 0xFFFFFFFFu); self->max_user_len = (Py_ssize_t)(head[6] >> 32);
    self->unk_id = (int32_t)(int64_t)head[7];
    if (!(bytes = image_part(&self->image, &pos, sizeof(self->user_first)))) goto fail;
    memcpy(self->user_first, bytes, sizeof(self->user_first));
    if (head[8]) { /* the id path's tables */
        if (!is_pow2(head[8]) || !is_pow2(head[9]) || head[2] >= ((uint64_t)1 << PAIR_ID_BITS) || self->max_user_len > MAX_USER_LEN_IDS) { PyErr_SetString(PyExc_ValueError, "malformed SpBpe image"); goto fail; }
        if (!(self->pairs = (uint64_t *)image_part(&self->image, &pos, head[8] * sizeof(uint64_t)))) goto fail;
        if (!(self->chars = (CharSlot *)image_part(&self->image, &pos, head[9] * sizeof(CharSlot)))) goto fail;
        self->pairs_mask = head[8] - 1; self->chars_mask = head[9] - 1;
    }
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
}

/* ---------------------------------------------------------------- runs of one character */
/* A long run of one character c (a chunk with no cut point) is encoded without per-symbol arrays.
 * Symbols of a run are runs c^k, so a symbol is its length. Group the merges among c's run pieces
 * into levels, one per priority (SentencePiece: one merged piece, whatever the split; tokenizers: one
 * merge rule), in the heap's order. Applying the levels one after the other, each as a left-to-right
 * pass that merges a pair of its level unless the pair's left symbol was just taken, gives the heap's
 * merges exactly when no merge creates a candidate of its own level or an earlier one: the heap would
 * take such a candidate next, a pass would not. So each pass checks, as it merges, the new symbol's
 * pairs with its neighbours then (the pass's previous output, its next input), and gives up when one
 * would come that early: the run then takes the heap (nothing of the attempt is kept). Passes stream
 * into each other, one pending symbol each: time linear in the run, memory fixed. docs/tokenizing.md. */

#define RUN_MIN_CHARS 256
#define RUN_MAX_LEN 96 /* run pieces longer than this (in characters): the heap */
#define RUN_MAX_LEVELS 127 /* int8_t levels */

typedef struct {
    int n_lengths, n_levels, max_len; /* max_len: the longest run piece (merges never make a longer one) */
    int32_t id_of[RUN_MAX_LEN + 1]; /* piece id of c^len, -1 none */
    int64_t prio[RUN_MAX_LEN + 1][RUN_MAX_LEN + 1]; /* priority of merging (a, b); -1 none */
    int8_t level[RUN_MAX_LEN + 1][RUN_MAX_LEN + 1]; /* its level, -1 none */
} RunPlan;

/* The merge of c^a and c^b: its priority (lower first) and the merged id, or -1. */
static int64_t run_merge(PyObject *encoder, int32_t left, int32_t right, int32_t *merged) {
    if (Py_IS_TYPE(encoder, &SpBpeType)) {
        int32_t id = sp_pair((const SpBpeObject *)encoder, left, right);
        *merged = id;
        return id; /* the id path's order: the merged id (scores fall strictly with it) */
    }
    MergeHit hit = bpe_merge((const BpeObject *)encoder, left, right);
    *merged = hit.new_id;
    return hit.rank;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Fill plan from the piece of one c (unit): the run lengths reachable by merges, the merges among
 * them and their levels. -1 when a run piece is longer than RUN_MAX_LEN or one text has two ids; -2
 * when only the levels are out of reach (more than RUN_MAX_LEVELS): the merges are known, the passes
 * cannot take them (the streaming heap can). */
static int run_plan(PyObject *encoder, int32_t unit, RunPlan *plan) {
    int lengths[RUN_MAX_LEN + 1], n = 0;
    for (int i = 0; i <= RUN_MAX_LEN; i++) {
        plan->id_of[i] = -1;
        for (int j = 0; j <= RUN_MAX_LEN; j++) { plan->prio[i][j] = -2; plan->level[i][j] = -1; } /* -2: not asked */
    }
    plan->id_of[1] = unit;
    lengths[n++] = 1;
    for (int grew = 1; grew;) { /* the closure of {1} under merges */
        grew = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int a = lengths[i], b = lengths[j];
                if (plan->prio[a][b] != -2) continue;
                int32_t merged;
                int64_t prio = run_merge(encoder, plan->id_of[a], plan->id_of[b], &merged);
                if (prio >= 0 && a + b > RUN_MAX_LEN) return -1;
                if (a + b <= RUN_MAX_LEN) plan->prio[a][b] = prio >= 0 ? prio : -1;
                if (prio < 0) continue;
                if (plan->id_of[a + b] < 0) { plan->id_of[a + b] = merged; lengths[n++] = a + b; grew = 1; }
                else if (plan->id_of[a + b] != merged) return -1; /* one text, two pieces: not for this path */
            }
        }
    }
    int64_t prios[(RUN_MAX_LEN + 1) * (RUN_MAX_LEN + 1) / 2 + 1];
    int np = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int64_t p = plan->prio[lengths[i]][lengths[j]];
            if (p >= 0) {
                if (np == (int)(sizeof(prios) / sizeof(prios[0]))) return -1;
                prios[np++] = p;
            }
        }
    plan->n_lengths = n;
    plan->max_len = 0;
    for (int i = 0; i < n; i++) if (lengths[i] > plan->max_len) plan->max_len = lengths[i];
    qsort(prios, (size_t)np, sizeof(int64_t), cmp_i64);
    int levels = 0;
    for (int k = 0; k < np; k++) if (!k || prios[k] != prios[k - 1]) prios[levels++] = prios[k];
    if (levels > RUN_MAX_LEVELS) return -2; /* every symbol walks every pass: few passes, or a heap */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int a = lengths[i], b = lengths[j];
            int64_t p = plan->prio[a][b];
            if (p < 0) continue;
            int lo = 0, hi = levels - 1;
            while (lo < hi) { int mid = (lo + hi) / 2; if (prios[mid] < p) lo = mid + 1; else hi = mid; }
            plan->level[a][b] = (int8_t)lo;
        }
    plan->n_levels = levels;
    return 0;
}

typedef struct { int pending, last, merged; } RunPass; /* last: the pass's previous output; merged: made here */

/* One symbol of length x into pass lvl (and on down the passes); a symbol past the last pass is a
 * token. 0 done, 1 the passes are not the heap's order here (see above), -1 out of memory. */
static inline int run_push(const RunPlan *plan, RunPass *passes, int lvl, int x, IdVec *out) {
    for (;;) {
        if (lvl == plan->n_levels) return idvec_push(out, plan->id_of[x]);
        RunPass *s = &passes[lvl];
        if (s->merged) { /* x is the right neighbour of what this pass made last */
            int l = plan->level[s->last][x];
            if (l >= 0 && l <= lvl) return 1;
            s->merged = 0;
        }
        int p = s->pending;
        if (p && plan->level[p][x] == lvl) {
            int m = p + x;
            if (s->last) { int l = plan->level[s->last][m]; if (l >= 0 && l <= lvl) return 1; }
            s->pending = 0; s->last = m; s->merged = 1;
            x = m; lvl++;
            continue;
        }
        s->pending = x;
        if (!p) return 0;
        s->last = p;
        x = p; lvl++;
    }
}

/* ---- the streaming heap: runs whose passes give up */
/* The heap's own algorithm over a run, in a window of fixed size. The run's untouched tail is all
 * single characters, whose pairs are all the same merge (rank p11) at positions right of every symbol
 * made so far: the heap takes the leftmost of them exactly when no candidate of the window comes first
 * (rank <= p11), so the tail is never held, only the symbols made from it. Symbols before a *sealed*
 * boundary are final once no candidate is pending: a boundary between symbols of lengths a and b with
 * a + b > the longest run piece never merges (symbols only grow), so nothing crosses it, and the left
 * side, with no candidate, never changes again. Then they are emitted and the window is reused. When
 * a full window has pending candidates or no sealed boundary, the attempt gives up and the whole run
 * takes the heap (nothing of it is kept). Spaces on gemma4: every merge into a longer run of spaces
 * outranks (1,1), so each block of 31 is made by a cascade and sealed against the next. */
#define STREAM_WINDOW 4096
#define STREAM_HEAP (4 * STREAM_WINDOW)

typedef struct { int32_t len, prev, next; } StreamSym; /* len 0: absorbed into its left neighbour */
/* right >= 0: the window's symbol; right < 0: the tail's first character while f == -1 - right */
typedef struct { int64_t prio; int32_t left, right, size; } StreamItem;

static inline int stream_before(const StreamItem *a, const StreamItem *b) {
    return a->prio < b->prio || (a->prio == b->prio && a->left < b->left);
}

DEFINE_HEAP(stream, StreamItem, stream_before)

typedef struct {
    const RunPlan *plan;
    StreamSym *syms; int32_t used, head, tail; /* the window: live symbols linked from head to tail */
    StreamItem *heap; size_t hn;
    Py_ssize_t f, n; /* the tail: characters f..n-1, untouched */
} RunStream;

static inline int stream_valid(const RunStream *r, const StreamItem *it) {
    const StreamSym *l = &r->syms[it->left];
    if (l->len <= 0) return 0;
    if (it->right < 0) return it->left == r->tail && r->f == -1 - (Py_ssize_t)it->right && l->len + 1 == it->size;
    return l->next == it->right && r->syms[it->right].len > 0 && l->len + r->syms[it->right].len == it->size;
}

/* The candidate (i, its right neighbour: the next symbol, or the tail's first character), if it merges. */
static inline int stream_candidate(RunStream *r, int32_t i) {
    if (i < 0) return 0;
    const StreamSym *s = &r->syms[i];
    int32_t right_len;
    StreamItem it;
    if (s->next >= 0) { right_len = r->syms[s->next].len; it.right = s->next; }
    else if (r->f < r->n) { right_len = 1; it.right = (int32_t)(-1 - r->f); }
    else return 0;
    int a = s->len, b = right_len;
    if (a + b > r->plan->max_len) return 0;
    int64_t prio = r->plan->prio[a][b];
    if (prio < 0) return 0;
    if (r->hn == STREAM_HEAP) return 1; /* full: give up */
    it.prio = prio; it.left = i; it.size = a + b;
    stream_push(r->heap, &r->hn, it);
    return 0;
}

/* Drop stale candidates; 1 when none is left. */
static int stream_settled(RunStream *r) {
    size_t k = 0;
    for (size_t i = 0; i < r->hn; i++) if (stream_valid(r, &r->heap[i])) r->heap[k++] = r->heap[i];
    if (k == r->hn) return k == 0;
    size_t n = 0;
    for (size_t i = 0; i < k; i++) stream_push(r->heap, &n, r->heap[i]); /* re-heap in place (i >= n) */
    r->hn = n;
    return n == 0;
}

/* Emit the final symbols before the last sealed boundary and move the rest to the window's front.
 * 0 done, 1 give up (no sealed boundary, or too little freed), -1 out of memory. */
static int stream_compact(RunStream *r, IdVec *out) {
    int32_t cut = -1;
    for (int32_t i = r->head; i >= 0 && r->syms[i].next >= 0; i = r->syms[i].next)
        if (r->syms[i].len + r->syms[r->syms[i].next].len > r->plan->max_len) cut = r->syms[i].next;
    if (cut < 0) return 1;
    for (int32_t i = r->head; i != cut; i = r->syms[i].next)
        if (idvec_push(out, r->plan->id_of[r->syms[i].len]) < 0) return -1;
    /* live symbols sit at rising indices along the list, so slot k is never past the one read */
    int32_t k = 0;
    for (int32_t i = cut; i >= 0; k++) {
        int32_t len = r->syms[i].len, next = r->syms[i].next;
        r->syms[k].len = len; r->syms[k].prev = k - 1; r->syms[k].next = next >= 0 ? k + 1 : -1;
        i = next;
    }
    r->used = k; r->head = k ? 0 : -1; r->tail = k - 1;
    return r->used > STREAM_WINDOW / 2; /* the window would fill again at once */
}

/* Encode a run of n characters c (whose merges the plan holds) by the streaming heap: 0 done, 1 give up
 * (the caller takes the heap), -1 out of memory. */
static int encode_run_stream(const RunPlan *plan, Py_ssize_t n, IdVec *out) {
    RunStream r = {plan, NULL, 0, -1, -1, NULL, 0, 0, n};
    int64_t p11 = plan->prio[1][1];
    if (p11 < 0) return 1; /* no pair merges: the passes' case */
    r.syms = (StreamSym *)malloc(STREAM_WINDOW * sizeof(StreamSym));
    r.heap = (StreamItem *)malloc(STREAM_HEAP * sizeof(StreamItem));
    int rc = 0;
    if (!r.syms || !r.heap) { rc = -1; goto end; }
    for (;;) {
        /* the window's candidates that come before the tail's next pair (all of them once it has none) */
        int tail_pair = p11 >= 0 && r.n - r.f >= 2;
        while (r.hn && (!tail_pair || r.heap[0].prio <= p11)) {
            StreamItem it = stream_pop(r.heap, &r.hn);
            if (!stream_valid(&r, &it)) continue;
            StreamSym *l = &r.syms[it.left];
            if (it.right < 0) { l->len += 1; r.f++; }
            else {
                StreamSym *rs = &r.syms[it.right];
                l->len += rs->len; rs->len = 0;
                l->next = rs->next;
                if (rs->next >= 0) r.syms[rs->next].prev = it.left; else r.tail = it.left;
            }
            if (stream_candidate(&r, l->prev) || stream_candidate(&r, it.left)) { rc = 1; goto end; }
            tail_pair = p11 >= 0 && r.n - r.f >= 2;
        }
        if (!tail_pair) break;
        /* the tail's leftmost pair: a new symbol of two characters at the window's end */
        if (r.used == STREAM_WINDOW) {
            if (!stream_settled(&r)) { rc = 1; goto end; }
            rc = stream_compact(&r, out);
            if (rc) goto end;
        }
        int32_t k = r.used++;
        r.syms[k].len = 2; r.syms[k].prev = r.tail; r.syms[k].next = -1;
        if (r.tail >= 0) r.syms[r.tail].next = k; else r.head = k;
        r.tail = k;
        r.f += 2;
        if (stream_candidate(&r, r.syms[k].prev) || stream_candidate(&r, k)) { rc = 1; goto end; }
    }
    for (int32_t i = r.head; i >= 0; i = r.syms[i].next)
        if (idvec_push(out, plan->id_of[r.syms[i].len]) < 0) { rc = -1; goto end; }
    if (r.f < r.n && idvec_push(out, plan->id_of[1]) < 0) rc = -1; /* a last lone character */
end:
    free(r.syms); free(r.heap);
    return rc;
}

/* Encode text[start:end) when it is one character repeated and the run path applies: 1 done, 0 not
 * applicable (the caller takes the usual path), -1 out of memory. */
static int encode_run(PyObject *encoder, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, IdVec *out) {
    Py_ssize_t n = end - start;
    if (n < RUN_MIN_CHARS) return 0;
    Py_UCS4 raw = PyUnicode_READ(kind, data, start);
    if (PyUnicode_READ(kind, data, end - 1) != raw) return 0;
    for (Py_ssize_t i = start + 1; i < end; i++) if (PyUnicode_READ(kind, data, i) != raw) return 0;
    Py_UCS4 cp = canon(raw);
    int32_t unit;
    int32_t bytes[4]; int blen;
    {
        unsigned char buf[4];
        if (cp < 0x80) { buf[0] = (unsigned char)cp; blen = 1; }
        else if (cp < 0x800) { buf[0] = 0xC0 | (cp >> 6); buf[1] = 0x80 | (cp & 0x3F); blen = 2; }
        else if (cp < 0x10000) { buf[0] = 0xE0 | (cp >> 12); buf[1] = 0x80 | ((cp >> 6) & 0x3F); buf[2] = 0x80 | (cp & 0x3F); blen = 3; }
        else { buf[0] = 0xF0 | (cp >> 18); buf[1] = 0x80 | ((cp >> 12) & 0x3F); buf[2] = 0x80 | ((cp >> 6) & 0x3F); buf[3] = 0x80 | (cp & 0x3F); blen = 4; }
        const int32_t *byte_ids = Py_IS_TYPE(encoder, &SpBpeType) ? ((SpBpeObject *)encoder)->byte_ids : ((BpeObject *)encoder)->byte_ids;
        for (int q = 0; q < blen; q++) bytes[q] = byte_ids[buf[q]];
    }
    if (Py_IS_TYPE(encoder, &SpBpeType)) {
        const SpBpeObject *b = (const SpBpeObject *)encoder;
        if (!b->pairs) return 0; /* the range path's model: not here */
        if (b->max_user_len && user_may_start(b, cp)) { /* a user-defined piece of c's only would be matched first */
            Py_UCS4 window[MAX_USER_LEN_IDS];
            Py_ssize_t avail = n < b->max_user_len ? n : b->max_user_len, len = 0;
            for (Py_ssize_t k = 0; k < avail; k++) window[k] = cp;
            if (sp_user_at(b, window, avail, &len) >= 0) return 0;
        }
        unit = sp_char(b, cp);
        if (unit < 0) { /* no piece: never merges (the id path's tables say so), one byte piece per UTF-8 byte */
            if (out->count_only) { out->n += (size_t)n * (size_t)blen; return 1; }
            for (Py_ssize_t i = 0; i < n; i++)
                for (int q = 0; q < blen; q++) if (idvec_push(out, bytes[q]) < 0) return -1;
            return 1;
        }
    } else {
        const BpeObject *b = (const BpeObject *)encoder;
        for (Py_ssize_t s = 0; s < b->n_specials; s++) if (b->specials[s][0] == raw) return 0;
        unit = bpe_char(b, cp);
        if (unit < 0) { /* byte fallback: the run is its bytes over and over, when no two of them merge */
            for (int q = 0; q < blen; q++) if (bpe_merge(b, bytes[q], bytes[(q + 1) % blen]).rank >= 0) return 0;
            if (out->count_only) { out->n += (size_t)n * (size_t)blen; return 1; }
            for (Py_ssize_t i = 0; i < n; i++)
                for (int q = 0; q < blen; q++) if (idvec_push(out, bytes[q]) < 0) return -1;
            return 1;
        }
    }
    RunPlan *plan = (RunPlan *)malloc(sizeof(RunPlan));
    if (!plan) return -1;
    int rc = run_plan(encoder, unit, plan);
    if (rc == -1) { free(plan); return 0; }
    size_t before = out->n;
    if (rc == 0) {
        RunPass passes[RUN_MAX_LEVELS];
        memset(passes, 0, sizeof(passes));
        for (Py_ssize_t i = 0; i < n && rc == 0; i++) rc = run_push(plan, passes, 0, 1, out);
        for (int lvl = 0; lvl < plan->n_levels && rc == 0; lvl++) { /* the end: each pass hands on what it holds */
            int p = passes[lvl].pending;
            passes[lvl].pending = 0;
            if (p) { passes[lvl].last = p; rc = run_push(plan, passes, lvl + 1, p, out); }
        }
    }
    if (rc != 0 && rc != -1) { /* the passes gave up, or cannot run: the streaming heap */
        out->n = before;
        rc = encode_run_stream(plan, n, out);
        if (rc == 1) out->n = before; /* the heap's turn */
    }
    free(plan);
    return rc < 0 ? -1 : rc == 1 ? 0 : 1;
}

/* Either encoder over text[start:end). */
static int encode_range(PyObject *encoder, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, IdVec *out) {
    int run = encode_run(encoder, kind, data, start, end, out);
    if (run) return run < 0 ? -1 : 0;
    if (Py_IS_TYPE(encoder, &SpBpeType)) return sp_encode_range((SpBpeObject *)encoder, kind, data, start, end, out);
    return bpe_encode_range((BpeObject *)encoder, kind, data, start, end, out);
}

/* Ranges at least this long are encoded with the GIL released (shorter ones cost less than the switch). */
#define NOGIL_MIN_CHARS 256

/* encode_range, with the GIL released for a long range; a Python MemoryError on failure (GIL held).
 * Safe without the GIL: `data` is the buffer of an immutable str the caller holds a reference to, the
 * encoder's tables never change after construction (and the encoder is referenced by the caller),
 * `out` is the caller's own; nothing here touches a Python object or the Splitter's cache. */
static int encode_range_nogil(PyObject *encoder, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, IdVec *out) {
    int rc;
    if (end - start < NOGIL_MIN_CHARS) {
        rc = encode_range(encoder, kind, data, start, end, out);
    } else {
        Py_BEGIN_ALLOW_THREADS
        rc = encode_range(encoder, kind, data, start, end, out);
        Py_END_ALLOW_THREADS
    }
    if (rc < 0) PyErr_NoMemory();
    return rc;
}

static inline int is_encoder(PyObject *o) { return Py_IS_TYPE(o, &BpeType) || Py_IS_TYPE(o, &SpBpeType); }

#define MAX_CODE_POINT 0x10FFFFu

/* The count of a lone character (a chunk of one): one byte per code point, 0 until first counted, kept by
 * the encoder (1.1 MB at most, its pages touched only for the scripts seen). Text of characters that join
 * nothing (random symbols, rare ideographs) then costs a memory read per character, not the encoder's
 * hash probes. Called with the GIL held (it is what guards the table); -1 with MemoryError. */
static long long encoder_char_count(PyObject *encoder, int kind, const void *data, Py_ssize_t at) {
    uint8_t **memo = Py_IS_TYPE(encoder, &SpBpeType) ? &((SpBpeObject *)encoder)->char_counts : &((BpeObject *)encoder)->char_counts;
    Py_UCS4 cp = PyUnicode_READ(kind, data, at);
    if (!*memo) *memo = (uint8_t *)calloc(MAX_CODE_POINT + 1, 1); /* NULL: counted without the memo */
    if (*memo && (*memo)[cp]) return (*memo)[cp];
    COUNTING_IDVEC(out);
    if (encode_range(encoder, kind, data, at, at + 1, &out) < 0) { PyErr_NoMemory(); return -1; }
    if (*memo && out.n > 0 && out.n < 256) (*memo)[cp] = (uint8_t)out.n;
    return (long long)out.n;
}

/* ---------------------------------------------------------------- Splitter + chunk cache */

/* len 0: an empty slot. A chunk of up to SHORT_CHUNK characters is its own key: its hash is a bijection
 * of its packed code points (short_key), so equal hashes and lengths are equal chunks and it keeps no
 * copy in the arena (a lookup is one probe); a longer chunk's characters are compared with its copy. */
typedef struct { uint64_t hash; uint32_t offset; uint16_t len; uint16_t count; } CacheSlot;
#define SHORT_CHUNK 3
#define MAX_CACHED_COUNT 0xFFFFu

/* len 0: an empty slot. The arena at `offset` holds the chunk's characters (none when it is short: the
 * hash is then the chunk, as in CacheSlot) followed by its n_ids ids. */
typedef struct { uint64_t hash; uint32_t offset; uint16_t len; uint16_t n_ids; } IdSlot;

typedef struct {
    PyObject_HEAD
    FpSet pairs;
    uint8_t ascii_joins[128 * 128 / 8]; /* fast path: pair of ASCII characters inside some piece */
    /* bit a * 256 + b: the characters a, b of a 1-byte str (space as "▁") are a pair inside some piece;
     * exact (made from the pairs, not the fingerprints): such a str's scan reads one bit a position */
    uint8_t latin1_joins[256 * 256 / 8];
    /* bit cp: cp is the left (right) character of some pair; a character that is neither joins nothing
     * and is cut without probing the pair set (most of a text of rare characters) */
    uint8_t *joins_left, *joins_right;
    uint8_t *bmp_joins; /* the same two bits for the BMP, a byte a code point (bit 0 left, bit 1 right): one load */
    /* the 2-byte scan's pair test: a blocked Bloom filter of the pair set (see pair_word) */
    uint64_t *pair_bits;
    CacheSlot *slots; size_t slots_mask; size_t n_entries;
    Py_UCS4 *arena; size_t arena_len, arena_cap;
    size_t cache_bytes; Py_ssize_t max_chunk;
    unsigned long long hits, misses, resets, id_hits, id_misses;
    /* The cache's own hit rate, per window of lookups: below SAMPLE_BELOW the cache only serves (looks
     * up, and keeps on a miss) every SAMPLE_EVERY-th chunk, so text that repeats little pays for few
     * lookups and inserts; those chunks keep measuring the rate, and a frequent chunk is soon among them. */
    unsigned window_lookups, window_hits, tick;
    int sampling;
    /* encode's chunk -> ids cache (IdSlot), bounded by cache_bytes on its own: one arena holds each
     * entry's characters (when longer than SHORT_CHUNK) and then its ids */
    IdSlot *id_slots; size_t id_mask, id_entries;
    uint32_t *id_arena; size_t id_arena_len, id_arena_cap;
    /* encode's int objects, one per id met (a vocabulary's ids at most): a list of ids is then
     * references to them, not an allocation per token */
    PyObject **id_objs; size_t n_id_objs;
} SplitterObject;

#define WINDOW 4096u
#define SAMPLE_EVERY 8u
#define SAMPLE_BELOW(hits, lookups) ((hits) * 4u < (lookups)) /* under 25 % */

/* A lone surrogate is no UTF-8 text: raise the codec's own UnicodeEncodeError, as the engines refuse it too. */
static int refuse_surrogates(PyObject *text) {
    if (PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND) return 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (Py_UNICODE_IS_SURROGATE(PyUnicode_READ(kind, data, i))) {
            PyObject *utf8 = PyUnicode_AsUTF8String(text); /* sets UnicodeEncodeError */
            Py_XDECREF(utf8);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "text holds a lone surrogate");
            return -1;
        }
    }
    return 0;
}

static inline Py_UCS4 canon(Py_UCS4 cp) { return cp == SPACE ? SPACE_MARK : cp; }

/* The splitter's join tables, copied into a scan's locals: they never change after Splitter_init, and
 * held in registers they are not reloaded after every store the scan makes. */
typedef struct { const uint8_t *ascii, *left, *right, *bmp, *latin1; FpSet pairs; const uint64_t *pair_bits; } JoinTables;

/* A blocked Bloom filter of the pair set for the 2-byte scan: two bits of one 64-bit word a pair (one
 * multiply, one load). A pair's bits are set, so a pair is never cut; another pair finds both of its bits
 * set with a probability of under 1 % for the vocabularies' ~35k pairs, and then two characters stay in
 * one chunk where they could have been cut (as exact: see FpSet; only a few more chunks are new). */
#define PAIR_WORD_BITS 14 /* 2^14 words: 128 KB */
static inline size_t pair_word(uint64_t h) { return (size_t)(h >> (64 - PAIR_WORD_BITS)); }
static inline uint64_t pair_mask(uint64_t h) { return (uint64_t)1 << ((h >> 32) & 63) | (uint64_t)1 << ((h >> 38) & 63); }

static inline JoinTables join_tables(const SplitterObject *s) {
    JoinTables t = {s->ascii_joins, s->joins_left, s->joins_right, s->bmp_joins, s->latin1_joins, s->pairs, s->pair_bits};
    return t;
}

/* joins_in for two BMP characters whose bmp_joins bytes are fa and fb (the scan reads each once) */
static inline int joins_bmp(const JoinTables *t, Py_UCS4 a, Py_UCS4 b, unsigned fa, unsigned fb) {
    if ((a | b) < 128) { unsigned bit = a * 128 + b; return (t->ascii[bit >> 3] >> (bit & 7)) & 1; }
    if (!(fa & (fb >> 1) & 1)) return 0;
    return fpset_may_have(&t->pairs, ((uint64_t)a << 32) | b);
}

static inline int joins_in(const JoinTables *t, Py_UCS4 a, Py_UCS4 b) {
    if (a < 128 && b < 128) { unsigned bit = a * 128 + b; return (t->ascii[bit >> 3] >> (bit & 7)) & 1; }
    if (!(((t->left[a >> 3] >> (a & 7)) & (t->right[b >> 3] >> (b & 7))) & 1)) return 0;
    return fpset_may_have(&t->pairs, ((uint64_t)a << 32) | b);
}

static inline int joins(const SplitterObject *s, Py_UCS4 a, Py_UCS4 b) {
    if (a < 128 && b < 128) { unsigned bit = a * 128 + b; return (s->ascii_joins[bit >> 3] >> (bit & 7)) & 1; }
    if (!(((s->joins_left[a >> 3] >> (a & 7)) & (s->joins_right[b >> 3] >> (b & 7))) & 1)) return 0;
    return fpset_may_have(&s->pairs, ((uint64_t)a << 32) | b);
}


static void cache_reset(SplitterObject *s) {
    free(s->slots); free(s->arena);
    s->slots = NULL; s->arena = NULL;
    s->slots_mask = 0; s->n_entries = 0; s->arena_len = s->arena_cap = 0;
}

static void ids_cache_reset(SplitterObject *s) {
    free(s->id_slots); free(s->id_arena);
    s->id_slots = NULL; s->id_arena = NULL;
    s->id_mask = 0; s->id_entries = 0; s->id_arena_len = s->id_arena_cap = 0;
}

static size_t cache_footprint(const SplitterObject *s) {
    return (s->slots ? (s->slots_mask + 1) * sizeof(CacheSlot) : 0) + s->arena_cap * sizeof(Py_UCS4);
}

/* The hash of a chunk of at most SHORT_CHUNK characters: code points + 1 (so that lengths differ) in 21
 * bits each, through mix64, which is a bijection of 64-bit words. */
static inline __attribute__((always_inline)) uint64_t short_key(int kind, const void *data, Py_ssize_t start, Py_ssize_t len) {
    if (len <= 0) return mix64(0);
    /* without a loop: the second and third characters read (inside the chunk) and masked off when absent */
    uint64_t two = 0 - (uint64_t)(len > 1), three = 0 - (uint64_t)(len > 2);
    uint64_t packed = (uint64_t)(PyUnicode_READ(kind, data, start) + 1);
    packed |= ((uint64_t)(PyUnicode_READ(kind, data, start + (len > 1)) + 1) << 21) & two;
    packed |= ((uint64_t)(PyUnicode_READ(kind, data, start + 2 * (len > 2)) + 1) << 42) & three;
    return mix64(packed);
}

static inline __attribute__((always_inline)) int chunk_equal(const SplitterObject *s, const CacheSlot *slot, int kind, const void *data, Py_ssize_t start, Py_ssize_t len) {
    if (slot->len != (uint32_t)len) return 0;
    if (len <= SHORT_CHUNK) return 1; /* the hashes are equal: so are the chunks (short_key) */
    const Py_UCS4 *stored = s->arena + slot->offset;
    for (Py_ssize_t i = 0; i < len; i++)
        if (stored[i] != PyUnicode_READ(kind, data, start + i)) return 0;
    return 1;
}

/* NAME(s): double an open-addressed table of SLOT (the splitter's fields TABLE and MASK; FIRST slots at
 * first), moving every used slot (len != 0) to its place by its hash. 0, or -1 out of memory. */
#define DEFINE_TABLE_GROW(NAME, SLOT, TABLE, MASK, FIRST)                                     \
    static int NAME(SplitterObject *s) {                                                     \
        size_t cap = s->TABLE ? (s->MASK + 1) * 2 : (FIRST);                                  \
        SLOT *slots = (SLOT *)calloc(cap, sizeof(SLOT));                                      \
        if (!slots) return -1;                                                                \
        if (s->TABLE) {                                                                       \
            for (size_t i = 0; i <= s->MASK; i++) {                                           \
                if (!s->TABLE[i].len) continue;                                               \
                size_t h = s->TABLE[i].hash & (cap - 1);                                      \
                while (slots[h].len) h = (h + 1) & (cap - 1);                                 \
                slots[h] = s->TABLE[i];                                                       \
            }                                                                                 \
            free(s->TABLE);                                                                   \
        }                                                                                     \
        s->TABLE = slots; s->MASK = cap - 1;                                                  \
        return 0;                                                                             \
    }

DEFINE_TABLE_GROW(cache_grow, CacheSlot, slots, slots_mask, 4096)

static int cache_insert(SplitterObject *s, uint64_t hash, int kind, const void *data, Py_ssize_t start, Py_ssize_t len, int32_t count) {
    if (len > s->max_chunk || count > (int32_t)MAX_CACHED_COUNT) return 0;
    size_t stored = len <= SHORT_CHUNK ? 0 : (size_t)len; /* characters kept in the arena */
    size_t want_slots = s->slots ? s->slots_mask + 1 : 0;
    if (!s->slots || (s->n_entries + 1) * 2 > want_slots) want_slots = want_slots ? want_slots * 2 : 4096;
    size_t want_arena = s->arena_cap;
    while (s->arena_len + stored > want_arena) want_arena = want_arena ? want_arena * 2 : 65536;
    if (want_slots * sizeof(CacheSlot) + want_arena * sizeof(Py_UCS4) > s->cache_bytes) {
        cache_reset(s); /* bounded memory: start afresh rather than grow past the cap */
        s->resets++;
        want_slots = 4096; want_arena = 65536;
        while (stored > want_arena) want_arena *= 2;
        if (want_slots * sizeof(CacheSlot) + want_arena * sizeof(Py_UCS4) > s->cache_bytes) return 0;
    }
    if (!s->slots || (s->n_entries + 1) * 2 > s->slots_mask + 1) if (cache_grow(s) < 0) return -1;
    if (want_arena != s->arena_cap) {
        Py_UCS4 *arena = (Py_UCS4 *)realloc(s->arena, want_arena * sizeof(Py_UCS4));
        if (!arena) return -1;
        s->arena = arena; s->arena_cap = want_arena;
    }
    size_t h = hash & s->slots_mask;
    while (s->slots[h].len) h = (h + 1) & s->slots_mask;
    for (size_t i = 0; i < stored; i++) s->arena[s->arena_len + i] = PyUnicode_READ(kind, data, start + (Py_ssize_t)i);
    s->slots[h].hash = hash; s->slots[h].offset = (uint32_t)s->arena_len; s->slots[h].len = (uint16_t)len;
    s->slots[h].count = (uint16_t)count;
    s->arena_len += stored; s->n_entries++;
    return 0;
}

/* A chunk's cache hash: its own packed code points when short, else an FNV hash of them. */
static inline __attribute__((always_inline)) uint64_t chunk_hash(int kind, const void *data, Py_ssize_t start, Py_ssize_t len) {
    if (len <= SHORT_CHUNK) return short_key(kind, data, start, len);
    uint64_t fnv = 0x9E3779B97F4A7C15ULL;
    for (Py_ssize_t i = 0; i < len; i++) fnv = (fnv ^ PyUnicode_READ(kind, data, start + i)) * 0x100000001B3ULL;
    return mix64(fnv ^ (uint64_t)len);
}

/* A chunk's count from the cache (`hash`: its chunk_hash): >= 0 a hit; -1 a miss, with *keep telling
 * whether the miss is to be remembered (the cache serves this chunk: see SplitterObject.sampling). */
static inline __attribute__((always_inline)) long long cache_lookup(SplitterObject *s, int kind, const void *data, Py_ssize_t start, Py_ssize_t len, uint64_t hash, int *keep) {
    *keep = len <= s->max_chunk && (!s->sampling || ++s->tick % SAMPLE_EVERY == 0);
    if (!*keep) return -1;
    long long found = -1;
    if (s->slots) {
        for (size_t h = hash & s->slots_mask; s->slots[h].len; h = (h + 1) & s->slots_mask) {
            if (s->slots[h].hash == hash && chunk_equal(s, &s->slots[h], kind, data, start, len)) {
                s->hits++; s->window_hits++;
                found = s->slots[h].count;
                break;
            }
        }
    }
    if (++s->window_lookups == WINDOW) {
        s->sampling = SAMPLE_BELOW(s->window_hits, s->window_lookups);
        s->window_lookups = s->window_hits = 0;
    }
    return found;
}

/* The count of a chunk the cache did not give: from the exact encoder (or the miss callable), kept in
 * the cache when `keep`. -1 with an exception set. */
static long long chunk_miss(SplitterObject *s, PyObject *text, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, uint64_t hash, PyObject *miss, int keep) {
    s->misses++;
    long long count;
    if (is_encoder(miss)) {
        COUNTING_IDVEC(out);
        if (encode_range_nogil(miss, kind, data, start, end, &out) < 0) return -1;
        count = (long long)out.n;
    } else {
        PyObject *chunk = PyUnicode_Substring(text, start, end);
        if (!chunk) return -1;
        PyObject *r = PyObject_CallOneArg(miss, chunk);
        Py_DECREF(chunk);
        if (!r) return -1;
        count = PyLong_AsLongLong(r);
        Py_DECREF(r);
        if (count == -1 && PyErr_Occurred()) return -1;
        if (count < 0 || count > INT32_MAX) { PyErr_SetString(PyExc_ValueError, "miss() returned an impossible count"); return -1; }
    }
    if (keep && cache_insert(s, hash, kind, data, start, end - start, (int32_t)count) < 0) { PyErr_NoMemory(); return -1; }
    return count;
}

/* ---- short misses, encoded side by side (counts only) */
/* A miss's BPE is a chain of probes into tables of megabytes: each merge's new pairs are looked up
 * before the next merge can be chosen, and each lookup waits for memory. Encoding several short misses
 * in turns hides those waits: a turn merges once and asks for the memory of the new pairs' probes, and
 * by its next turn that memory has come. The algorithm is the encoders' own (SentencePiece's by ids:
 * the merged id orders; tokenizers': the merge rank orders; then the leftmost pair), held here as the
 * current candidate of each adjacent pair instead of a heap. A user-defined piece (SentencePiece) is
 * matched as the encoder matches it and held as one frozen symbol (code's indentation: runs of spaces
 * after a newline); chunks that hold special tokens (tokenizers), or more than AM_MAX symbols, take the
 * encoders' usual path. */
#define AM_MAX 32
#define AM_NONE INT32_MAX
#define AM_FROZEN INT32_MIN /* a symbol's id: a user-defined piece (SentencePiece), matched whole, never merged */

typedef struct {
    Py_ssize_t start, end;
    int slot; /* the block's miss it counts */
    int n, done, first;
    int probe_left, probe_right; /* symbols whose pair with their right neighbour is yet to be looked up; -1 none */
    int32_t id[AM_MAX]; /* a piece, or (SentencePiece) -1 - cp for a character that is no piece, or AM_FROZEN */
    int8_t prev[AM_MAX], next[AM_MAX];
    int32_t rank[AM_MAX], merged[AM_MAX]; /* the pair (i, next[i]): its rank (AM_NONE: none) and piece */
    uint32_t pslot[AM_MAX]; /* SentencePiece: where the pair (i, next[i])'s probe starts (am_pair_prefetch) */
    long long count;
} AmChunk;

/* Ask for the memory of the pair (c->id[i], c->id[j])'s probe; for SentencePiece, keep the slot it
 * starts at, so that am_probe does not hash the pair again. */
static inline __attribute__((always_inline)) void am_pair_prefetch(PyObject *encoder, int sp, AmChunk *c, int i, int j) {
    int32_t l = c->id[i], r = c->id[j];
    if (l < 0 || r < 0) return;
    if (sp) {
        const SpBpeObject *b = (const SpBpeObject *)encoder;
        size_t h = mix64((((uint64_t)(uint32_t)l << PAIR_ID_BITS) | (uint32_t)r) + 1) & b->pairs_mask;
        c->pslot[i] = (uint32_t)h;
        __builtin_prefetch(&b->pairs[h]);
    } else {
        bpe_merge_prefetch((const BpeObject *)encoder, l, r);
    }
}

static inline __attribute__((always_inline)) void am_probe(PyObject *encoder, int sp, AmChunk *c, int i) {
    int j = c->next[i];
    c->rank[i] = AM_NONE;
    if (j < 0 || c->id[i] < 0 || c->id[j] < 0) return;
    if (sp) { /* sp_pair from the slot am_pair_prefetch kept (every probed pair was asked for first) */
        const SpBpeObject *b = (const SpBpeObject *)encoder;
        uint64_t k = (((uint64_t)(uint32_t)c->id[i] << PAIR_ID_BITS) | (uint32_t)c->id[j]) + 1;
        int32_t m = -1;
        for (size_t h = c->pslot[i], v; (v = b->pairs[h]) != 0; h = (h + 1) & b->pairs_mask)
            if ((v >> PAIR_ID_BITS) == k) { m = (int32_t)(v & ((1u << PAIR_ID_BITS) - 1)); break; }
        if (m >= 0) { c->rank[i] = m; c->merged[i] = m; }
    } else {
        MergeHit hit = bpe_merge((const BpeObject *)encoder, c->id[i], c->id[j]);
        if (hit.rank >= 0) { c->rank[i] = hit.rank; c->merged[i] = hit.new_id; }
    }
}

/* Set up a chunk's symbols and ask for its first probes; 0 when it is not for this path. */
static inline __attribute__((always_inline)) int am_init(PyObject *encoder, int sp, int kind, const void *data, AmChunk *c) {
    int n = 0;
    for (Py_ssize_t i = c->start; i < c->end; i++) {
        Py_UCS4 cp = canon(PyUnicode_READ(kind, data, i));
        unsigned x = cp & 0xFFFFu;
        if (sp) {
            const SpBpeObject *b = (const SpBpeObject *)encoder;
            if (b->max_user_len && ((b->user_first[x >> 3] >> (x & 7)) & 1)) { /* is one here? */
                Py_UCS4 window[MAX_USER_LEN_IDS];
                Py_ssize_t len = 0;
                if (sp_user_at_text(b, kind, data, i, c->end - i, window, &len) >= 0) {
                    /* frozen, as sp_encode_ids makes it: one symbol that never merges */
                    if (n == AM_MAX) return 0;
                    c->id[n++] = AM_FROZEN;
                    i += len - 1;
                    continue;
                }
            }
            if (n == AM_MAX) return 0;
            int32_t id = sp_char(b, cp);
            c->id[n++] = id >= 0 ? id : -1 - (int32_t)cp;
        } else {
            const BpeObject *b = (const BpeObject *)encoder;
            if (b->n_specials && ((b->special_first[x >> 3] >> (x & 7)) & 1)) { /* is one here? */
                Py_UCS4 raw = PyUnicode_READ(kind, data, i);
                for (Py_ssize_t t = 0; t < b->n_specials; t++) {
                    Py_ssize_t len = b->special_lens[t];
                    if (b->specials[t][0] != raw || len > c->end - i) continue;
                    Py_ssize_t k = 1;
                    while (k < len && PyUnicode_READ(kind, data, i + k) == b->specials[t][k]) k++;
                    if (k == len) return 0;
                }
            }
            int32_t id = bpe_char(b, cp);
            if (id >= 0) {
                if (n == AM_MAX) return 0;
                c->id[n++] = id;
            } else { /* byte fallback: a symbol per UTF-8 byte (byte pieces never merge: tables.py) */
                unsigned char buf[4]; int len;
                if (cp < 0x80) { buf[0] = (unsigned char)cp; len = 1; }
                else if (cp < 0x800) { buf[0] = 0xC0 | (cp >> 6); buf[1] = 0x80 | (cp & 0x3F); len = 2; }
                else if (cp < 0x10000) { buf[0] = 0xE0 | (cp >> 12); buf[1] = 0x80 | ((cp >> 6) & 0x3F); buf[2] = 0x80 | (cp & 0x3F); len = 3; }
                else { buf[0] = 0xF0 | (cp >> 18); buf[1] = 0x80 | ((cp >> 12) & 0x3F); buf[2] = 0x80 | ((cp >> 6) & 0x3F); buf[3] = 0x80 | (cp & 0x3F); len = 4; }
                if (n + len > AM_MAX) return 0;
                for (int k = 0; k < len; k++) c->id[n++] = b->byte_ids[buf[k]];
            }
        }
    }
    c->n = n;
    for (int i = 0; i < n; i++) { c->prev[i] = (int8_t)(i - 1); c->next[i] = (int8_t)(i + 1 < n ? i + 1 : -1); c->rank[i] = AM_NONE; }
    for (int i = 0; i + 1 < n; i++) am_pair_prefetch(encoder, sp, c, i, i + 1);
    c->probe_left = c->probe_right = -1;
    c->done = 0; c->first = 1;
    return 1;
}

/* One turn: the probes asked for last turn, then one merge, then ask for the next probes. Inlined with
 * a constant `sp` (am_turns). */
static inline __attribute__((always_inline)) void am_turn(PyObject *encoder, int sp, AmChunk *c) {
    if (c->first) {
        for (int i = 0; i >= 0; i = c->next[i]) am_probe(encoder, sp, c, i);
        c->first = 0;
    } else {
        if (c->probe_left >= 0) am_probe(encoder, sp, c, c->probe_left);
        if (c->probe_right >= 0) am_probe(encoder, sp, c, c->probe_right);
    }
    /* symbols stay in text order by index (a merge keeps the left one) and a merged-away one has no
     * rank: the lowest rank at the lowest index is the leftmost best pair, read without the links */
    int best = -1;
    int32_t best_rank = AM_NONE;
    for (int i = 0; i < c->n; i++) {
        int better = c->rank[i] < best_rank;
        best = better ? i : best;
        best_rank = better ? c->rank[i] : best_rank;
    }
    if (best < 0) {
        long long count = 0;
        for (int i = 0; i >= 0; i = c->next[i]) {
            int32_t id = c->id[i];
            if (id >= 0 || id == AM_FROZEN || !sp) { count++; continue; }
            Py_UCS4 cp = (Py_UCS4)(-1 - id);
            count += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        c->count = count; c->done = 1;
        return;
    }
    int r = c->next[best];
    c->rank[r] = AM_NONE; /* merged away */
    c->id[best] = c->merged[best];
    c->next[best] = c->next[r];
    if (c->next[r] >= 0) c->prev[c->next[r]] = (int8_t)best;
    c->probe_left = c->prev[best];
    c->probe_right = best;
    c->rank[best] = AM_NONE;
    if (c->probe_left >= 0) { c->rank[c->probe_left] = AM_NONE; am_pair_prefetch(encoder, sp, c, c->probe_left, best); }
    if (c->next[best] >= 0) am_pair_prefetch(encoder, sp, c, best, c->next[best]);
}

/* Turns until every chunk is done; `sp` constant in each call, so am_turn is specialised to it. */
static inline __attribute__((always_inline)) void am_turns(PyObject *encoder, int sp, AmChunk *am, int n_am) {
    for (int active = n_am; active;) {
        active = 0;
        for (int i = 0; i < n_am; i++) {
            if (am[i].done) continue;
            am_turn(encoder, sp, &am[i]);
            active += !am[i].done;
        }
    }
}

typedef struct { Py_ssize_t start, end; uint64_t hash; } ChunkSpan; /* hash: chunk_hash, made in count_block */
#define CHUNK_BLOCK 64

/* The sum of a block of chunks' counts, in phases whose memory misses overlap: the cache slots of every
 * chunk longer than one character asked for, then read; the encoder's first reads for every miss asked for, then
 * the misses encoded. -1 with an exception set. */
static inline __attribute__((always_inline)) long long count_block(SplitterObject *s, PyObject *text, int kind, const void *data, ChunkSpan *block, int nb, PyObject *miss) {
    int encoder = is_encoder(miss);
    const uint8_t *memo = NULL;
    if (Py_IS_TYPE(miss, &SpBpeType)) memo = ((SpBpeObject *)miss)->char_counts;
    else if (Py_IS_TYPE(miss, &BpeType)) memo = ((BpeObject *)miss)->char_counts;
    /* a lone character's count is read at once (the memo's loads are independent, so they overlap
     * anyway); the other chunks' slots are asked for, then read */
    long long total = 0;
    int looked[CHUNK_BLOCK], n_looked = 0;
    for (int j = 0; j < nb; j++) {
        Py_ssize_t len = block[j].end - block[j].start;
        if (len == 1 && encoder) {
            uint8_t known = memo ? memo[PyUnicode_READ(kind, data, block[j].start)] : 0;
            long long k = known ? (long long)known : encoder_char_count(miss, kind, data, block[j].start);
            if (k < 0) return -1;
            total += k;
        } else {
            block[j].hash = chunk_hash(kind, data, block[j].start, len);
            if (s->slots) __builtin_prefetch(&s->slots[block[j].hash & s->slots_mask]);
            looked[n_looked++] = j;
        }
    }
    int missed[CHUNK_BLOCK], keeps[CHUNK_BLOCK], n_missed = 0;
    for (int m = 0; m < n_looked; m++) {
        int j = looked[m], keep;
        long long k = cache_lookup(s, kind, data, block[j].start, block[j].end - block[j].start, block[j].hash, &keep);
        if (k < 0) { keeps[n_missed] = keep; missed[n_missed++] = j; continue; }
        total += k;
    }
    if (!n_missed) return total;
    /* short misses side by side (see AmChunk), the rest one by one */
    int sp = Py_IS_TYPE(miss, &SpBpeType);
    int by_turns = encoder && n_missed > 1 && (!sp || ((SpBpeObject *)miss)->pairs);
    AmChunk am[CHUNK_BLOCK];
    int n_am = 0;
    for (int m = 0; m < n_missed; m++) {
        const ChunkSpan *c = &block[missed[m]];
        if (by_turns && c->end - c->start <= AM_MAX) {
            AmChunk *a = &am[n_am];
            a->start = c->start; a->end = c->end; a->slot = m;
            if (am_init(miss, sp, kind, data, a)) { n_am++; continue; }
        }
        long long k = chunk_miss(s, text, kind, data, c->start, c->end, c->hash, miss, keeps[m]);
        if (k < 0) return -1;
        total += k;
    }
    if (sp) am_turns(miss, 1, am, n_am);
    else am_turns(miss, 0, am, n_am);
    for (int i = 0; i < n_am; i++) {
        const ChunkSpan *c = &block[missed[am[i].slot]];
        s->misses++;
        if (keeps[am[i].slot] && cache_insert(s, c->hash, kind, data, c->start, c->end - c->start, (int32_t)am[i].count) < 0) { PyErr_NoMemory(); return -1; }
        total += am[i].count;
    }
    return total;
}

/* Whether a 2-byte str holds a surrogate: eight characters a step (its scan then tests none). */
static inline int has_surrogate(const Py_UCS2 *p, Py_ssize_t n) {
    Py_ssize_t i = 0;
#if defined(__SSE2__)
    const __m128i high = _mm_set1_epi16((short)0xF800), sur = _mm_set1_epi16((short)0xD800);
    __m128i any = _mm_setzero_si128();
    for (; i + 8 <= n; i += 8)
        any = _mm_or_si128(any, _mm_cmpeq_epi16(_mm_and_si128(_mm_loadu_si128((const __m128i *)(p + i)), high), sur));
    if (_mm_movemask_epi8(any)) return 1;
#endif
    for (; i < n; i++) if (Py_UNICODE_IS_SURROGATE(p[i])) return 1;
    return 0;
}

/* The scan of Splitter.count over one string kind: the chunks' counts, block by block (see count_block:
 * their memory misses overlap); -1 with an exception set, -2 at a lone surrogate (no text: the caller
 * raises the codec's error). A 2-byte str is checked for surrogates first (nothing is counted then); a
 * 4-byte str's surrogate is met before the chunk holding it is counted.
 * The cut test per kind: a 1-byte str reads latin1_joins with its raw bytes; a 2-byte str its raw
 * characters' bmp_joins bytes and, where both may join, the pair set (both hold a space as "▁" too); a
 * 4-byte str canon()'s characters and the two bitmaps. */
typedef struct { Py_UCS4 prev, prev_c; unsigned prev_f; } ScanState;

/* NAME writes chunk ends from position i on into ends[*nb_io..] until CHUNK_BLOCK of them are written or
 * the text ends; the next position, or -1 at a surrogate. Apart from count_block, so that its few
 * variables stay in registers: a cut is data, not a branch (every position writes the next chunk end,
 * a cut keeps it), and the loop runs in stretches too short to fill the block, so it tests no count. */
#define DEFINE_SCAN_BLOCK(NAME, T)                                                                         \
    static __attribute__((noinline)) Py_ssize_t NAME(const JoinTables *jtp, const T *p, Py_ssize_t i, Py_ssize_t n, \
                                                     Py_ssize_t *ends, int *nb_io, ScanState *st) {      \
        const JoinTables jt = *jtp;                                                                      \
        size_t nb = (size_t)*nb_io;                                                                      \
        Py_UCS4 prev = st->prev, prev_c = st->prev_c;                                                    \
        unsigned prev_f = st->prev_f;                                                                    \
        while (i < n && nb < CHUNK_BLOCK) {                                                              \
            /* nb grows by one a position at most: this stretch cannot fill the block */                 \
            Py_ssize_t stop = n - i < (Py_ssize_t)(CHUNK_BLOCK - nb) ? n : i + (Py_ssize_t)(CHUNK_BLOCK - nb); \
            for (; i < stop; i++) {                                                                      \
                Py_UCS4 cp = p[i];                                                                       \
                size_t cut;                                                                              \
                if (sizeof(T) == 1) {                                                                    \
                    unsigned bit = prev << 8 | cp;                                                       \
                    cut = !((jt.latin1[bit >> 3] >> (bit & 7)) & 1);                                     \
                } else if (sizeof(T) == 2) {                                                             \
                    unsigned f = jt.bmp[cp];                                                             \
                    uint64_t h = pair_hash(((uint64_t)prev << 32) | cp), want = pair_mask(h);             \
                    cut = !(prev_f & (f >> 1) & (unsigned)((jt.pair_bits[pair_word(h)] & want) == want));     \
                    prev_f = f;                                                                          \
                } else {                                                                                 \
                    if (Py_UNICODE_IS_SURROGATE(cp)) return -1;                                          \
                    Py_UCS4 c = canon(cp);                                                               \
                    cut = !joins_in(&jt, prev_c, c);                                                     \
                    prev_c = c;                                                                          \
                }                                                                                        \
                prev = cp;                                                                               \
                ends[nb] = i;                                                                            \
                nb += cut;                                                                               \
            }                                                                                            \
        }                                                                                                \
        *nb_io = (int)nb;                                                                                \
        st->prev = prev; st->prev_c = prev_c; st->prev_f = prev_f;                                       \
        return i;                                                                                        \
    }

DEFINE_SCAN_BLOCK(scan_block_1, Py_UCS1)
DEFINE_SCAN_BLOCK(scan_block_2, Py_UCS2)
DEFINE_SCAN_BLOCK(scan_block_4, Py_UCS4)

#define DEFINE_COUNT_SCAN(NAME, T, SCAN)                                                                   \
    static long long NAME(SplitterObject *self, PyObject *text, int kind, const T *p, Py_ssize_t n, PyObject *miss) { \
        ChunkSpan block[CHUNK_BLOCK];                                                                    \
        Py_ssize_t ends[CHUNK_BLOCK + 1];                                                                \
        const JoinTables jt = join_tables(self);                                                         \
        /* a constant kind: count_block and its helpers are inlined here, their reads typed */          \
        kind = sizeof(T) == 1 ? PyUnicode_1BYTE_KIND : sizeof(T) == 2 ? PyUnicode_2BYTE_KIND : PyUnicode_4BYTE_KIND; \
        if (sizeof(T) == 2 && has_surrogate((const Py_UCS2 *)p, n)) return -2;                           \
        if (sizeof(T) == 4 && Py_UNICODE_IS_SURROGATE(p[0])) return -2;                                  \
        int nb = 0;                                                                                      \
        long long total = 0;                                                                             \
        Py_ssize_t start = 0; /* the block's first chunk's */                                            \
        ScanState st = {p[0], canon(p[0]), sizeof(T) == 2 ? jt.bmp[p[0]] : 0};                           \
        for (Py_ssize_t i = 1;;) {                                                                       \
            i = SCAN(&jt, p, i, n, ends, &nb, &st);                                                      \
            if (i < 0) return -2;                                                                        \
            if (nb < CHUNK_BLOCK) break; /* the text's end */                                            \
            for (int j = 0; j < nb; j++) { block[j].start = start; start = block[j].end = ends[j]; }     \
            long long k = count_block(self, text, kind, (const void *)p, block, nb, miss);               \
            if (k < 0) return -1;                                                                        \
            total += k;                                                                                  \
            nb = 0;                                                                                      \
        }                                                                                                \
        ends[nb] = n;                                                                                    \
        for (int j = 0; j <= nb; j++) { block[j].start = start; start = block[j].end = ends[j]; }        \
        long long k = count_block(self, text, kind, (const void *)p, block, nb + 1, miss);               \
        return k < 0 ? -1 : total + k;                                                                   \
    }

DEFINE_COUNT_SCAN(count_scan_1, Py_UCS1, scan_block_1)
DEFINE_COUNT_SCAN(count_scan_2, Py_UCS2, scan_block_2)
DEFINE_COUNT_SCAN(count_scan_4, Py_UCS4, scan_block_4)

static PyObject *Splitter_count(SplitterObject *self, PyObject *args) {
    PyObject *text, *miss;
    if (!PyArg_ParseTuple(args, "UO:count", &text, &miss)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (!n) return PyLong_FromLong(0);
    long long total = kind == PyUnicode_1BYTE_KIND ? count_scan_1(self, text, kind, (const Py_UCS1 *)data, n, miss)
                      : kind == PyUnicode_2BYTE_KIND ? count_scan_2(self, text, kind, (const Py_UCS2 *)data, n, miss)
                                                     : count_scan_4(self, text, kind, (const Py_UCS4 *)data, n, miss);
    if (total == -2) { refuse_surrogates(text); return NULL; }
    if (total < 0) return NULL;
    return PyLong_FromLongLong(total);
}

static PyObject *Splitter_bounds(SplitterObject *self, PyObject *text) {
    /* The chunk end offsets of text (the last one is len(text)). */
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "bounds() takes a str"); return NULL; }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *list = PyList_New(0);
    if (!list || !n) return list;
    Py_UCS4 prev_c = canon(PyUnicode_READ(kind, data, 0));
    for (Py_ssize_t i = 1; i <= n; i++) {
        Py_UCS4 c = i < n ? canon(PyUnicode_READ(kind, data, i)) : 0;
        if (i == n || !joins(self, prev_c, c)) {
            PyObject *x = PyLong_FromSsize_t(i);
            if (!x || PyList_Append(list, x) < 0) { Py_XDECREF(x); Py_DECREF(list); return NULL; }
            Py_DECREF(x);
        }
        prev_c = c;
    }
    return list;
}

/* ---- encode's chunk -> ids cache */

/* The cached ids of a chunk (`hash`: its chunk_hash) and their count in *n_ids; NULL when not cached. */
static inline const uint32_t *ids_lookup(const SplitterObject *s, int kind, const void *data, Py_ssize_t start, Py_ssize_t len, uint64_t hash, size_t *n_ids) {
    if (!s->id_slots) return NULL;
    for (size_t h = hash & s->id_mask; s->id_slots[h].len; h = (h + 1) & s->id_mask) {
        const IdSlot *slot = &s->id_slots[h];
        if (slot->hash != hash || slot->len != (uint32_t)len) continue;
        const uint32_t *at = s->id_arena + slot->offset;
        if (len > SHORT_CHUNK) { /* short chunks are their hash (short_key) */
            Py_ssize_t i = 0;
            while (i < len && at[i] == PyUnicode_READ(kind, data, start + i)) i++;
            if (i < len) continue;
            at += len;
        }
        *n_ids = slot->n_ids;
        return at;
    }
    return NULL;
}

DEFINE_TABLE_GROW(ids_grow, IdSlot, id_slots, id_mask, 1024)

/* Remember a chunk's ids; past cache_bytes the cache starts afresh (as the count cache does). 0, or -1
 * when out of memory. */
static int ids_insert(SplitterObject *s, uint64_t hash, int kind, const void *data, Py_ssize_t start, Py_ssize_t len, const int32_t *ids, size_t n_ids) {
    if (len > s->max_chunk || n_ids > 0xFFFFu) return 0;
    size_t stored = (len <= SHORT_CHUNK ? 0 : (size_t)len) + n_ids;
    size_t want_slots = s->id_slots ? s->id_mask + 1 : 0;
    if (!s->id_slots || (s->id_entries + 1) * 2 > want_slots) want_slots = want_slots ? want_slots * 2 : 1024;
    size_t want_arena = s->id_arena_cap;
    while (s->id_arena_len + stored > want_arena) want_arena = want_arena ? want_arena * 2 : 16384;
    if (want_slots * sizeof(IdSlot) + want_arena * sizeof(uint32_t) > s->cache_bytes) {
        ids_cache_reset(s);
        want_slots = 1024; want_arena = 16384;
        while (stored > want_arena) want_arena *= 2;
        if (want_slots * sizeof(IdSlot) + want_arena * sizeof(uint32_t) > s->cache_bytes) return 0;
    }
    if (!s->id_slots || (s->id_entries + 1) * 2 > s->id_mask + 1) if (ids_grow(s) < 0) return -1;
    if (want_arena != s->id_arena_cap) {
        uint32_t *arena = (uint32_t *)realloc(s->id_arena, want_arena * sizeof(uint32_t));
        if (!arena) return -1;
        s->id_arena = arena; s->id_arena_cap = want_arena;
    }
    size_t h = hash & s->id_mask;
    while (s->id_slots[h].len) h = (h + 1) & s->id_mask;
    uint32_t *at = s->id_arena + s->id_arena_len;
    if (len > SHORT_CHUNK) for (Py_ssize_t i = 0; i < len; i++) *at++ = PyUnicode_READ(kind, data, start + i);
    if (n_ids) memcpy(at, ids, n_ids * sizeof(int32_t));
    s->id_slots[h].hash = hash; s->id_slots[h].offset = (uint32_t)s->id_arena_len;
    s->id_slots[h].len = (uint16_t)len; s->id_slots[h].n_ids = (uint16_t)n_ids;
    s->id_arena_len += stored; s->id_entries++;
    return 0;
}

/* Append n ids to out. -1 when out of memory. */
static int idvec_extend(IdVec *o, const uint32_t *ids, size_t n) {
    if (!o->v) { o->v = o->local; o->cap = 64; }
    if (o->n + n > o->cap) {
        size_t cap = o->cap * 2;
        while (cap < o->n + n) cap *= 2;
        int32_t *v = (int32_t *)malloc(cap * sizeof(int32_t));
        if (!v) return -1;
        memcpy(v, o->v, o->n * sizeof(int32_t));
        if (o->v != o->local) free(o->v);
        o->v = v; o->cap = cap;
    }
    memcpy(o->v + o->n, ids, n * sizeof(int32_t));
    o->n += n;
    return 0;
}

/* The ids of text[start:end), one chunk: from the ids cache, else encoded and remembered. -1 with an
 * exception set. */
static int encode_chunk(SplitterObject *s, PyObject *bpe, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, IdVec *out) {
    Py_ssize_t len = end - start;
    if (len > s->max_chunk) return encode_range_nogil(bpe, kind, data, start, end, out);
    uint64_t hash = chunk_hash(kind, data, start, len);
    size_t n_ids;
    const uint32_t *found = ids_lookup(s, kind, data, start, len, hash, &n_ids);
    if (found) {
        s->id_hits++;
        if (idvec_extend(out, found, n_ids) < 0) { PyErr_NoMemory(); return -1; }
        return 0;
    }
    s->id_misses++;
    size_t before = out->n;
    /* the GIL may be released inside: the cache is looked at again only once it is back */
    if (encode_range_nogil(bpe, kind, data, start, end, out) < 0) return -1;
    if (ids_insert(s, hash, kind, data, start, len, out->v ? out->v + before : NULL, out->n - before) < 0) { PyErr_NoMemory(); return -1; }
    return 0;
}

static void id_objs_free(SplitterObject *s) {
    for (size_t i = 0; i < s->n_id_objs; i++) Py_XDECREF(s->id_objs[i]);
    free(s->id_objs);
    s->id_objs = NULL; s->n_id_objs = 0;
}

/* The list of out's ids, each the splitter's own int object for that id. */
static PyObject *ids_to_shared_list(SplitterObject *s, const IdVec *o) {
    PyObject *list = PyList_New((Py_ssize_t)o->n);
    if (!list) return NULL;
    for (size_t i = 0; i < o->n; i++) {
        int32_t id = o->v[i];
        if (id < 0) { Py_DECREF(list); PyErr_SetString(PyExc_ValueError, "negative token id"); return NULL; }
        if ((size_t)id >= s->n_id_objs) {
            size_t n = s->n_id_objs ? s->n_id_objs : 1024;
            while (n <= (size_t)id) n *= 2;
            PyObject **objs = (PyObject **)realloc(s->id_objs, n * sizeof(PyObject *));
            if (!objs) { Py_DECREF(list); PyErr_NoMemory(); return NULL; }
            memset(objs + s->n_id_objs, 0, (n - s->n_id_objs) * sizeof(PyObject *));
            s->id_objs = objs; s->n_id_objs = n;
        }
        PyObject *x = s->id_objs[id];
        if (!x) {
            x = PyLong_FromLong(id);
            if (!x) { Py_DECREF(list); return NULL; }
            s->id_objs[id] = x;
        }
        Py_INCREF(x);
        PyList_SET_ITEM(list, (Py_ssize_t)i, x);
    }
    return list;
}

static PyObject *Splitter_encode(SplitterObject *self, PyObject *args) {
    /* encode(text, bpe): ids of every chunk, concatenated, through the ids cache (not the count cache). */
    PyObject *text, *bpe;
    if (!PyArg_ParseTuple(args, "UO:encode", &text, &bpe)) return NULL;
    if (!is_encoder(bpe)) { PyErr_SetString(PyExc_TypeError, "encode() needs a Bpe or SpBpe"); return NULL; }
    if (refuse_surrogates(text) < 0) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    IdVec out = {NULL, 0, 0, {0}, 0};
    Py_ssize_t start = 0;
    Py_UCS4 prev_c = n ? canon(PyUnicode_READ(kind, data, 0)) : 0;
    for (Py_ssize_t i = 1; i <= n; i++) {
        Py_UCS4 c = i < n ? canon(PyUnicode_READ(kind, data, i)) : 0;
        if (i == n || !joins(self, prev_c, c)) {
            if (encode_chunk(self, bpe, kind, data, start, i, &out) < 0) { idvec_free(&out); return NULL; }
            start = i;
        }
        prev_c = c;
    }
    PyObject *list = ids_to_shared_list(self, &out);
    idvec_free(&out);
    return list;
}

static PyObject *Splitter_clear(SplitterObject *self, PyObject *Py_UNUSED(ignored)) {
    cache_reset(self);
    ids_cache_reset(self);
    self->id_hits = self->id_misses = 0;
    self->hits = self->misses = self->resets = 0;
    self->window_lookups = self->window_hits = 0;
    self->sampling = 0;
    Py_RETURN_NONE;
}

static PyObject *Splitter_stats(SplitterObject *self, PyObject *Py_UNUSED(ignored)) {
    return Py_BuildValue("{s:K,s:K,s:K,s:n,s:n,s:O}", "hits", self->hits, "misses", self->misses, "resets", self->resets,
                         "entries", (Py_ssize_t)self->n_entries, "bytes", (Py_ssize_t)cache_footprint(self),
                         "sampling", self->sampling ? Py_True : Py_False);
}

/* Splitter(pairs: uint64 buffer of (a << 32 | b) for every character pair inside some piece,
 *          cache_bytes: int, max_chunk: int); spaces are looked up as "▁". */
static int Splitter_init(SplitterObject *self, PyObject *args, PyObject *kwds) {
    PyObject *pairs_obj;
    Py_ssize_t cache_bytes, max_chunk;
    static char *kwlist[] = {"pairs", "cache_bytes", "max_chunk", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Onn", kwlist, &pairs_obj, &cache_bytes, &max_chunk)) return -1;
    if (self->pairs.fps) { PyErr_SetString(PyExc_RuntimeError, "Splitter is already initialised"); return -1; }
    if (cache_bytes < 0 || max_chunk < 0) { PyErr_SetString(PyExc_ValueError, "negative cache size"); return -1; }
    Py_buffer view;
    if (PyObject_GetBuffer(pairs_obj, &view, PyBUF_SIMPLE) < 0) return -1;
    if (view.len % 8) { PyBuffer_Release(&view); PyErr_SetString(PyExc_ValueError, "pairs: length not a multiple of 8"); return -1; }
    const uint64_t *keys = (const uint64_t *)view.buf;
    size_t n = (size_t)view.len / 8;
    /* the pair set also holds each pair with "▁" as a space (0x20), so that the 2-byte scan probes raw
     * characters; canon() never gives 0x20, so no other reader meets these */
    size_t n_marked = 0;
    for (size_t i = 0; i < n; i++) n_marked += (keys[i] >> 32) == SPACE_MARK || (keys[i] & 0xFFFFFFFFu) == SPACE_MARK;
    uint64_t *all = (uint64_t *)malloc((n + 3 * n_marked + 1) * sizeof(uint64_t));
    if (!all) { PyBuffer_Release(&view); PyErr_NoMemory(); return -1; }
    size_t n_all = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = keys[i] >> 32, b = keys[i] & 0xFFFFFFFFu;
        all[n_all++] = keys[i];
        if (a == SPACE_MARK) all[n_all++] = (uint64_t)SPACE << 32 | b;
        if (b == SPACE_MARK) all[n_all++] = a << 32 | SPACE;
        if (a == SPACE_MARK && b == SPACE_MARK) all[n_all++] = (uint64_t)SPACE << 32 | SPACE;
    }
    int fp_failed = fpset_init(&self->pairs, all, n_all) < 0;
    self->pair_bits = (uint64_t *)calloc((size_t)1 << PAIR_WORD_BITS, sizeof(uint64_t));
    if (!self->pair_bits) fp_failed = 1;
    else for (size_t i = 0; i < n_all; i++) { uint64_t h = pair_hash(all[i]); self->pair_bits[pair_word(h)] |= pair_mask(h); }
    free(all);
    if (fp_failed) { PyBuffer_Release(&view); PyErr_NoMemory(); return -1; }
    memset(self->ascii_joins, 0, sizeof(self->ascii_joins));
    memset(self->latin1_joins, 0, sizeof(self->latin1_joins));
    self->joins_left = (uint8_t *)calloc(MAX_CODE_POINT / 8 + 1, 1);
    self->joins_right = (uint8_t *)calloc(MAX_CODE_POINT / 8 + 1, 1);
    self->bmp_joins = (uint8_t *)calloc(0x10000, 1);
    if (!self->joins_left || !self->joins_right || !self->bmp_joins) { PyBuffer_Release(&view); PyErr_NoMemory(); return -1; }
    for (size_t i = 0; i < n; i++) {
        uint64_t a = keys[i] >> 32, b = keys[i] & 0xFFFFFFFFu;
        if (a < 128 && b < 128) { unsigned bit = (unsigned)(a * 128 + b); self->ascii_joins[bit >> 3] |= (uint8_t)(1u << (bit & 7)); }
        /* the bytes whose canon() is a, b: a space is looked up as "▁", so "▁" stands for byte 0x20 */
        uint64_t ra = a == SPACE_MARK ? SPACE : a < 256 && a != SPACE ? a : 256;
        uint64_t rb = b == SPACE_MARK ? SPACE : b < 256 && b != SPACE ? b : 256;
        if (ra < 256 && rb < 256) { unsigned bit = (unsigned)(ra * 256 + rb); self->latin1_joins[bit >> 3] |= (uint8_t)(1u << (bit & 7)); }
        if (a <= MAX_CODE_POINT && b <= MAX_CODE_POINT) { /* no str holds a larger one: such a pair never matches */
            self->joins_left[a >> 3] |= (uint8_t)(1u << (a & 7));
            self->joins_right[b >> 3] |= (uint8_t)(1u << (b & 7));
            if (a < 0x10000) self->bmp_joins[a] |= 1;
            if (b < 0x10000) self->bmp_joins[b] |= 2;
        }
    }
    PyBuffer_Release(&view);
    self->bmp_joins[SPACE] |= self->bmp_joins[SPACE_MARK]; /* the 2-byte scan reads a space's byte as "▁"'s */
    /* arena offsets are 32-bit counts of code points */
    self->cache_bytes = (size_t)cache_bytes < ((size_t)1 << 33) ? (size_t)cache_bytes : ((size_t)1 << 33);
    self->max_chunk = max_chunk < 0xFFFF ? max_chunk : 0xFFFF; /* a slot's len is 16 bits */
    return 0;
}

static void Splitter_dealloc(SplitterObject *self) {
    free(self->pairs.fps);
    free(self->joins_left); free(self->joins_right); free(self->bmp_joins); free(self->pair_bits);
    cache_reset(self);
    ids_cache_reset(self);
    id_objs_free(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Splitter_id_stats(SplitterObject *self, PyObject *Py_UNUSED(ignored)) {
    size_t bytes = (self->id_slots ? (self->id_mask + 1) * sizeof(IdSlot) : 0) + self->id_arena_cap * sizeof(uint32_t);
    return Py_BuildValue("{s:K,s:K,s:n,s:n}", "hits", self->id_hits, "misses", self->id_misses,
                         "entries", (Py_ssize_t)self->id_entries, "bytes", (Py_ssize_t)bytes);
}

static PyMethodDef Splitter_methods[] = {
    {"id_stats", (PyCFunction)Splitter_id_stats, METH_NOARGS, "id_stats() -> dict: encode's chunk -> ids cache (hits, misses, entries, bytes)."},
    {"count", (PyCFunction)Splitter_count, METH_VARARGS, "count(text, miss) -> int: the sum of the chunks' counts."},
    {"bounds", (PyCFunction)Splitter_bounds, METH_O, "bounds(text) -> list[int]: the chunks' end offsets."},
    {"encode", (PyCFunction)Splitter_encode, METH_VARARGS, "encode(text, bpe) -> list[int]: ids chunk by chunk."},
    {"clear", (PyCFunction)Splitter_clear, METH_NOARGS, "Empty the chunk cache."},
    {"stats", (PyCFunction)Splitter_stats, METH_NOARGS, "Cache hits, misses, resets, entries and bytes."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SplitterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "vertexmeter.tokenizing.core._native.Splitter",
    .tp_basicsize = sizeof(SplitterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Cuts texts where no vocabulary piece spans and counts them through a bounded chunk cache.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Splitter_init,
    .tp_dealloc = (destructor)Splitter_dealloc,
    .tp_methods = Splitter_methods,
};

/* ---------------------------------------------------------------- text measures */

/* billable_characters(text): the code points that are not whitespace, whitespace being exactly what
 * str.isspace() (and so str.split()) calls whitespace: CPython's own Py_UNICODE_ISSPACE. Every whitespace
 * character but U+3000 is below U+2060 (the tests check all code points): those are one bit each, read from a
 * table made from Py_UNICODE_ISSPACE at import, so a character costs a load, not a call. */
#define SPACE_TABLE_END 0x2060u
static uint8_t space_bits[SPACE_TABLE_END / 8];

static void space_bits_init(void) {
    for (Py_UCS4 cp = 0; cp < SPACE_TABLE_END; cp++)
        if (Py_UNICODE_ISSPACE(cp)) space_bits[cp >> 3] |= (uint8_t)(1u << (cp & 7));
}

static inline Py_ssize_t is_space(Py_UCS4 cp) {
    return cp < SPACE_TABLE_END ? (space_bits[cp >> 3] >> (cp & 7)) & 1 : cp == 0x3000;
}

#define DEFINE_COUNT_SPACES(NAME, T)                                                     \
    static Py_ssize_t NAME(const T *p, Py_ssize_t n) {                                   \
        Py_ssize_t spaces = 0;                                                           \
        for (Py_ssize_t i = 0; i < n; i++) spaces += is_space(p[i]);                     \
        return spaces;                                                                   \
    }
DEFINE_COUNT_SPACES(count_spaces_1, Py_UCS1)
DEFINE_COUNT_SPACES(count_spaces_2, Py_UCS2)
DEFINE_COUNT_SPACES(count_spaces_4, Py_UCS4)

static PyObject *native_billable_characters(PyObject *Py_UNUSED(module), PyObject *text) {
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "billable_characters() takes a str"); return NULL; }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_ssize_t spaces = kind == PyUnicode_1BYTE_KIND   ? count_spaces_1((const Py_UCS1 *)data, n)
                        : kind == PyUnicode_2BYTE_KIND ? count_spaces_2((const Py_UCS2 *)data, n)
                                                       : count_spaces_4((const Py_UCS4 *)data, n);
    return PyLong_FromSsize_t(n - spaces);
}

static PyMethodDef native_functions[] = {
    {"billable_characters", (PyCFunction)native_billable_characters, METH_O,
     "billable_characters(text) -> int: code points that are not whitespace (str.isspace)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "_native", "vertexmeter's native counting core.", -1, native_functions, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    space_bits_init();
    if (PyType_Ready(&BpeType) < 0 || PyType_Ready(&SpBpeType) < 0 || PyType_Ready(&SplitterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&native_module);
    if (!m) return NULL;
    Py_INCREF(&BpeType);
    if (PyModule_AddObject(m, "Bpe", (PyObject *)&BpeType) < 0) { Py_DECREF(&BpeType); Py_DECREF(m); return NULL; }
    Py_INCREF(&SpBpeType);
    if (PyModule_AddObject(m, "SpBpe", (PyObject *)&SpBpeType) < 0) { Py_DECREF(&SpBpeType); Py_DECREF(m); return NULL; }
    Py_INCREF(&SplitterType);
    if (PyModule_AddObject(m, "Splitter", (PyObject *)&SplitterType) < 0) { Py_DECREF(&SplitterType); Py_DECREF(m); return NULL; }
    return m;
}
