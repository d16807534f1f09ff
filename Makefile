# cbag build. Modes: release (default), asan (address+undefined), tsan,
# fuzz (clang, libFuzzer instrumentation + address+undefined).
#   make                 build/release/libcbag.{a,so} and the cbag command
#   make test            unit tests, plain -O2
#   make test-asan       unit tests under AddressSanitizer + UBSan
#   make test-tsan       the threaded tests under ThreadSanitizer
#   make check           all of the above + differential tests against dask
#   make fuzz            every libFuzzer target for FUZZ_SECONDS (default 60)
#   make fuzz-smoke      every target briefly on its corpus (the test command)
#   make bench           benchmarks, written to BENCHMARKS.md
#   make test-mpi        the mpi scheduler against threads under mpirun
#   make install PREFIX=/usr/local
# MPI=1 builds the "mpi" scheduler (Open MPI); the default where mpicc is
# found. MPI=0 builds without it, in build/MODE-nompi.
MODE ?= release
PREFIX ?= /usr/local
CC ?= cc
MPI ?= $(if $(shell command -v mpicc 2>/dev/null),1,0)
NOMPI := $(if $(filter 1,$(MPI)),,-nompi)
B := build/$(MODE)$(NOMPI)
ifeq ($(MPI),1)
  MPI_CFLAGS := -DCBAG_MPI $(shell mpicc --showme:compile)
  MPI_LIBS := $(shell mpicc --showme:link)
endif

WARN := -Wall -Wextra -Werror -Wno-unused-parameter
BASE := -std=c11 -D_GNU_SOURCE -fPIC -pthread -Iinclude -Isrc -Isrc/core $(WARN)
ifeq ($(MODE),release)
  OPT := -O2 -g
else ifeq ($(MODE),asan)
  OPT := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(MODE),tsan)
  OPT := -O1 -g -fsanitize=thread
else ifeq ($(MODE),fuzz)
  CC := clang
  OPT := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
  $(error unknown MODE $(MODE))
endif
CFLAGS_ALL := $(BASE) $(MPI_CFLAGS) $(OPT) $(CFLAGS)
LDLIBS_ALL := -lisal -lxxhash -lz -lzstd -lbz2 -llzma -llz4 -lcurl -lpthread -lm $(MPI_LIBS) $(LDLIBS)

LIB_SRC := $(sort $(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
TSAN_TESTS := $(sort $(wildcard tests/test_engine*.c tests/test_stress*.c tests/test_keyed*.c tests/test_io*.c tests/test_text*.c tests/test_frame*.c tests/test_shuffle*.c))
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(B)/examples/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.PHONY: all lib test test-asan test-tsan test-cli test-remote test-mpi check bench install clean format examples tutorial diff fuzz fuzz-build fuzz-smoke

all: lib $(EXAMPLE_BIN) $(if $(wildcard cli/cbag.c),$(B)/cbag)
lib: $(B)/libcbag.a $(B)/libcbag.so

$(B)/%.o: %.c $(wildcard include/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libcbag.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libcbag.so: $(LIB_OBJ)
	$(CC) -shared $(CFLAGS_ALL) -Wl,-soname,libcbag.so.0 -o $@ $^ $(LDLIBS_ALL)

$(B)/tests/%: tests/%.c $(B)/libcbag.a $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests $< -o $@ $(B)/libcbag.a -lcmocka $(LDLIBS_ALL)

$(B)/examples/%: examples/%.c $(B)/libcbag.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< -o $@ $(B)/libcbag.a $(LDLIBS_ALL)

$(B)/bench/%: bench/%.c $(B)/libcbag.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< -o $@ $(B)/libcbag.a $(LDLIBS_ALL)

$(B)/cbag: $(wildcard cli/*.c) $(B)/libcbag.a
	$(CC) $(CFLAGS_ALL) $(wildcard cli/*.c) -o $@ $(B)/libcbag.a -ledit $(LDLIBS_ALL)

examples: $(EXAMPLE_BIN)

# Each test program prints cmocka's summary; scripts/run-tests sums them up.
test: $(TEST_BIN) $(EXAMPLE_BIN)
	@scripts/run-tests $(MODE) $(TEST_BIN)

test-asan:
	$(MAKE) MODE=asan test

test-tsan:
	$(MAKE) MODE=tsan $(TSAN_TESTS:tests/%.c=build/tsan/tests/%)
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" scripts/run-tests tsan $(TSAN_TESTS:tests/%.c=build/tsan/tests/%)

diff: all
	@CBAG_LDLIBS="$(LDLIBS_ALL)" scripts/run-diff

# The cbag command end to end (tests/cli/run.sh prints "N passed, N failed").
test-cli: all
	@CBAG=$(B)/cbag tests/cli/run.sh

# Remote data (http, s3) against local servers that tests/remote/run.sh
# starts: test_remote plain, under ASan and under TSan (partitions are read
# by concurrent workers), ending in "N passed, N failed".
test-remote: all build/release$(NOMPI)/tests/test_remote
	$(MAKE) MODE=asan build/asan$(NOMPI)/tests/test_remote
	$(MAKE) MODE=tsan build/tsan$(NOMPI)/tests/test_remote
	@CBAG=$(B)/cbag TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  tests/remote/run.sh build/release$(NOMPI)/tests/test_remote \
	  build/asan$(NOMPI)/tests/test_remote build/tsan$(NOMPI)/tests/test_remote

# The mpi scheduler against threads under mpirun (tests/mpi/run.sh prints
# "N passed, N failed"); says so and passes when built without MPI.
$(B)/tests/mpi/%: tests/mpi/%.c $(B)/libcbag.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< -o $@ $(B)/libcbag.a $(LDLIBS_ALL)

test-mpi: all $(if $(filter 1,$(MPI)),$(B)/tests/mpi/ops)
	@MPI=$(MPI) CBAG=$(B)/cbag OPS=$(B)/tests/mpi/ops tests/mpi/run.sh

check: test test-asan test-tsan test-cli test-remote test-mpi diff

bench: all $(BENCH_BIN)
	@scripts/run-bench

tutorial: all
	$(B)/examples/tutorial

install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/cbag.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(B)/libcbag.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libcbag.so $(DESTDIR)$(PREFIX)/lib/libcbag.so.0
	ln -sf libcbag.so.0 $(DESTDIR)$(PREFIX)/lib/libcbag.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@MPI_LIBS@|$(MPI_LIBS)|' cbag.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/cbag.pc
	if [ -x $(B)/cbag ]; then install -d $(DESTDIR)$(PREFIX)/bin && install -m 755 $(B)/cbag $(DESTDIR)$(PREFIX)/bin/; fi

# libFuzzer targets (clang): fuzz/NAME_fuzz.c is the target NAME, run on
# its committed corpus fuzz/corpus/NAME; fuzz/decomp_fuzz.c is built once
# per codec. make fuzz keeps new inputs in build/fuzz/NAME.new; a crash
# leaves its input in build/fuzz/NAME-crash-* (commit it to the corpus once
# fixed). fuzz-smoke runs each briefly and keeps nothing.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 8
FUZZ_CODECS := gzip bz2 xz zstd lz4
FUZZ_TARGETS := $(sort $(filter-out decomp,$(patsubst fuzz/%_fuzz.c,%,$(wildcard fuzz/*_fuzz.c))) $(FUZZ_CODECS))
FUZZ_BIN := $(FUZZ_TARGETS:%=build/fuzz/%_fuzz)
FUZZ_RUN := FUZZ_TARGETS="$(FUZZ_TARGETS)" scripts/run-fuzz

ifeq ($(MODE),fuzz)
$(FUZZ_CODECS:%=build/fuzz/%_fuzz): build/fuzz/%_fuzz: fuzz/decomp_fuzz.c $(B)/libcbag.a
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -DFUZZ_CODEC='"$*"' $< -o $@ $(B)/libcbag.a $(LDLIBS_ALL)

build/fuzz/%_fuzz: fuzz/%_fuzz.c $(B)/libcbag.a
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer $< -o $@ $(B)/libcbag.a $(LDLIBS_ALL)

fuzz-build: $(FUZZ_BIN)
else
fuzz-build:
	@$(MAKE) --no-print-directory MODE=fuzz fuzz-build
endif

fuzz: fuzz-build
	@$(FUZZ_RUN) $(FUZZ_SECONDS) keep

fuzz-smoke: fuzz-build
	@$(FUZZ_RUN) $(FUZZ_SMOKE_SECONDS) smoke

format:
	clang-format -i include/*.h src/*/*.c src/*/*.h tests/*.c tests/*.h examples/*.c $(wildcard cli/*.c bench/*.c fuzz/*.c fuzz/*.h)

clean:
	rm -rf build
