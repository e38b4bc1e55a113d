//! `fs::File`: reads, writes, seeks and the `&self` calls, through the
//! blocking pool; the background write and what happens to it on a drop.
#![cfg(all(feature = "fs", feature = "io-util"))]

mod support;

use std::io::SeekFrom;

use ember::fs::{File, OpenOptions};
use ember::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use support::temp_dir::TempDir;
use support::{run, LIMIT};

/// `len` bytes that differ from one position to the next (a bug that
/// shifts or repeats a chunk shows).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Leaves `file` with read-ahead: a read of 64 bytes is started and
/// dropped while its job runs, then `buf` is filled from what that job
/// read (the file must hold more than `buf.len()` bytes).
async fn read_ahead(file: &mut File, buf: &mut [u8]) {
    let mut big = [0u8; 64];
    {
        let read = std::pin::pin!(file.read(&mut big));
        assert!(support::poll_once(read).await.is_pending());
    }
    file.read_exact(buf).await.unwrap();
}

#[test]
fn a_file_written_then_read_back_holds_the_same_bytes() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"hello, ").await.unwrap();
        file.write_all(b"file").await.unwrap();
        file.flush().await.unwrap();
        drop(file);

        let mut back = String::new();
        let mut file = File::open(&path).await.unwrap();
        file.read_to_string(&mut back).await.unwrap();
        assert_eq!(back, "hello, file");
    });
}

#[test]
fn a_16_mib_file_goes_through_the_pool_in_chunks_of_at_most_2_mib() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("big");
        let data = pattern(16 << 20);

        let before = ember::runtime::stats().tasks_spawned;
        let mut file = File::create(&path).await.unwrap();
        file.write_all(&data).await.unwrap();
        file.flush().await.unwrap();
        // Each job is one task: the open, then at least 8 writes of 2 MiB.
        let jobs = ember::runtime::stats().tasks_spawned - before;
        assert!(jobs > 8, "16 MiB written in {jobs} jobs");
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), data);

        let mut file = File::open(&path).await.unwrap();
        let mut back = Vec::new();
        let before = ember::runtime::stats().tasks_spawned;
        file.read_to_end(&mut back).await.unwrap();
        let jobs = ember::runtime::stats().tasks_spawned - before;
        assert!(jobs > 8, "16 MiB read in {jobs} jobs");
        assert!(back == data, "the bytes read back differ");
    });
}

#[test]
fn a_read_larger_than_the_max_buf_size_returns_at_most_that_much() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        std::fs::write(&path, pattern(10_000)).unwrap();
        let mut file = File::open(&path).await.unwrap();
        file.set_max_buf_size(4096);
        assert_eq!(file.max_buf_size(), 4096);
        let mut buf = vec![0u8; 10_000];
        assert_eq!(file.read(&mut buf).await.unwrap(), 4096);
        assert_eq!(&buf[..4096], &pattern(10_000)[..4096]);
    });
}

#[test]
fn seek_then_read_returns_the_bytes_at_the_new_position() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut file = File::open(&path).await.unwrap();
        assert_eq!(file.seek(SeekFrom::Start(6)).await.unwrap(), 6);
        let mut buf = [0u8; 2];
        file.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"67");
        assert_eq!(file.seek(SeekFrom::End(-10)).await.unwrap(), 0);
        assert_eq!(file.stream_position().await.unwrap(), 0);
        file.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"01");
        assert!(file.seek(SeekFrom::Current(-100)).await.is_err());
    });
}

#[test]
fn a_seek_from_current_counts_from_the_reader_not_from_the_read_ahead() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut file = File::open(&path).await.unwrap();
        let mut buf = [0u8; 2];
        read_ahead(&mut file, &mut buf).await;
        assert_eq!(file.stream_position().await.unwrap(), 2);
        assert_eq!(file.seek(SeekFrom::Current(3)).await.unwrap(), 5);
        file.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"56");
    });
}

#[test]
fn a_write_after_a_read_lands_where_the_reader_stands() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        let mut buf = [0u8; 3];
        // The file reads ahead past byte 3; the write must not land at 10.
        read_ahead(&mut file, &mut buf).await;
        file.write_all(b"abc").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"012abc6789");
    });
}

#[test]
fn set_len_truncates_and_extends_without_moving_the_cursor() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"0123456789").await.unwrap();
        file.set_len(4).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 4);
        file.set_len(6).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"0123\0\0");
        // The cursor stayed at 10: the next write leaves a hole.
        assert_eq!(file.stream_position().await.unwrap(), 10);
    });
}

#[test]
fn metadata_and_sync_all_wait_for_the_write_before_them() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        let mut file = File::create(&path).await.unwrap();
        file.write_all(&pattern(100_000)).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 100_000);
        file.sync_all().await.unwrap();
        file.sync_data().await.unwrap();
    });
}

#[test]
fn concurrent_self_calls_each_get_their_own_result() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        let file = File::create(&path).await.unwrap();
        let (a, b, c) = ember::join!(file.set_len(7), file.metadata(), file.sync_all());
        a.unwrap();
        c.unwrap();
        // The op lock makes them take turns in the order they were polled.
        assert_eq!(b.unwrap().len(), 7);
    });
}

#[test]
fn opening_a_missing_file_is_not_found() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let err = File::open(dir.join("missing")).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        let err = File::create(dir.join("no/such/dir")).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        std::fs::write(dir.join("there"), b"").unwrap();
        let err = File::create_new(dir.join("there")).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    });
}

#[test]
fn a_failed_background_write_is_reported_by_flush() {
    run(LIMIT, || async {
        // Every write to /dev/full fails with ENOSPC.
        let mut file = OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .await
            .unwrap();
        // The write returns once handed to the pool...
        assert_eq!(file.write(b"lost").await.unwrap(), 4);
        // ...and the next write or flush reports that it failed, once;
        // `metadata` leaves the error for them.
        assert!(file.metadata().await.is_ok());
        let err = file.flush().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
        file.flush().await.unwrap();
        assert!(file.write_all(b"again").await.is_ok());
        assert!(file.sync_all().await.is_err());
    });
}

#[test]
fn a_file_dropped_right_after_a_write_still_gets_its_bytes() {
    support::within(LIMIT, || {
        // One pool thread: jobs run in the order they were queued, so the
        // read below runs after the dropped file's last write.
        let rt = ember::Runtime::builder()
            .blocking_threads(1)
            .build()
            .unwrap();
        rt.block_on(async {
            let dir = TempDir::new();
            let path = dir.join("f");
            let mut file = File::create(&path).await.unwrap();
            file.write_all(&pattern(3 << 20)).await.unwrap();
            // The last chunk is on the pool (or queued for it): no flush.
            drop(file);
            assert!(ember::fs::read(&path).await.unwrap() == pattern(3 << 20));
        });
    });
}

#[test]
fn into_std_gives_the_cursor_back_where_the_reader_stands() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut file = File::open(&path).await.unwrap();
        let mut buf = [0u8; 4];
        read_ahead(&mut file, &mut buf).await;
        let mut std = file.into_std().await;
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut std, &mut rest).unwrap();
        assert_eq!(rest, "456789");
    });
}

#[test]
fn try_into_std_refuses_while_a_write_is_in_flight() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"in flight").await.unwrap();
        let mut file = match file.try_into_std() {
            Ok(_) => panic!("a file with a write in flight was given back"),
            Err(file) => file,
        };
        file.flush().await.unwrap();
        let std = file.try_into_std().expect("idle file");
        assert_eq!(std.metadata().unwrap().len(), 9);
    });
}

#[test]
fn a_file_from_std_keeps_its_cursor() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        std::fs::write(&path, b"abcdef").unwrap();
        let mut std = std::fs::File::open(&path).unwrap();
        std::io::Seek::seek(&mut std, SeekFrom::Start(3)).unwrap();
        let mut file = File::from_std(std);
        let mut rest = Vec::new();
        file.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"def");
        let clone = file.try_clone().await.unwrap();
        assert_eq!(clone.metadata().await.unwrap().len(), 6);
    });
}

#[test]
fn a_write_queued_when_the_runtime_is_dropped_still_reaches_the_file() {
    let dir = TempDir::new();
    let path = dir.join("f");
    let in_rt = path.clone();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    support::within(LIMIT, move || {
        let rt = ember::Runtime::builder()
            .blocking_threads(1)
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut file = File::create(&in_rt).await.unwrap();
            // The pool's one thread waits for the gate, so the write below
            // is still queued when the runtime goes.
            let (started_tx, started) = std::sync::mpsc::channel::<()>();
            drop(ember::spawn_blocking(move || {
                let _ = started_tx.send(());
                let _ = gate.recv();
            }));
            // (Blocks the loop for a moment: nothing else runs here.)
            started.recv().unwrap();
            file.write_all(b"survives").await.unwrap();
        });
        drop(rt);
    });
    release.send(()).unwrap();
    // The pool's thread runs the write after the gate; nothing waits for
    // it, so look until it is there (bounded).
    let start = std::time::Instant::now();
    while std::fs::read(&path).unwrap() != b"survives" {
        assert!(
            start.elapsed() < LIMIT,
            "the queued write never reached the file"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn a_buf_reader_over_a_file_seeks_from_where_its_reader_stands() {
    run(LIMIT, || async {
        use ember::io::{AsyncBufReadExt, BufReader, BufWriter};
        let dir = TempDir::new();
        let path = dir.join("f");
        let mut writer = BufWriter::new(File::create(&path).await.unwrap());
        writer.write_all(b"zero\none\ntwo\n").await.unwrap();
        // The seek hands the buffered bytes over first.
        assert_eq!(writer.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        writer.write_all(b"ZERO").await.unwrap();
        writer.flush().await.unwrap();

        let mut reader = BufReader::new(File::open(&path).await.unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "ZERO\n");
        // The whole file is buffered; `Current` counts from byte 5.
        assert_eq!(reader.seek(SeekFrom::Current(4)).await.unwrap(), 9);
        line.clear();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "two\n");
    });
}

#[test]
fn a_read_after_a_write_in_flight_sees_the_written_bytes() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        // No flush: the seek and the read wait for the write's job.
        file.write_all(b"written").await.unwrap();
        file.rewind().await.unwrap();
        let mut back = String::new();
        file.read_to_string(&mut back).await.unwrap();
        assert_eq!(back, "written");
    });
}

#[test]
fn a_seek_dropped_midway_still_moves_the_cursor() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut file = File::open(&path).await.unwrap();
        {
            let seek = std::pin::pin!(file.seek(SeekFrom::Start(7)));
            assert!(support::poll_once(seek).await.is_pending());
        }
        // The seek's job was handed to the pool: it happens anyway, and the
        // next operation waits for it.
        let mut rest = Vec::new();
        file.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"789");
    });
}
