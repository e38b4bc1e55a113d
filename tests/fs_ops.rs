//! `fs`'s free functions: whole files in chunks, directories, links,
//! metadata, and their errors as `io::Error`s.
#![cfg(feature = "fs")]

mod support;

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;

use ember::fs;

use support::temp_dir::TempDir;
use support::{run, LIMIT};

#[test]
fn write_then_read_round_trips_bytes_and_strings() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        fs::write(&path, "héllo").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), "héllo".as_bytes());
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "héllo");
        // `write` replaces what the file held.
        fs::write(&path, b"x").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"x");
        fs::write(&path, b"").await.unwrap();
        assert!(fs::read(&path).await.unwrap().is_empty());
    });
}

#[test]
fn a_16_mib_file_is_read_and_written_in_chunks() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("big");
        let data: Vec<u8> = (0..16 << 20).map(|i: usize| (i % 253) as u8).collect();
        let before = ember::runtime::stats().tasks_spawned;
        fs::write(&path, &data).await.unwrap();
        let jobs = ember::runtime::stats().tasks_spawned - before;
        assert_eq!(jobs, 8, "16 MiB written in {jobs} jobs of 2 MiB");
        let before = ember::runtime::stats().tasks_spawned;
        let back = fs::read(&path).await.unwrap();
        let jobs = ember::runtime::stats().tasks_spawned - before;
        // 8 full chunks, then one that finds the end.
        assert_eq!(jobs, 9, "16 MiB read in {jobs} jobs of 2 MiB");
        assert!(back == data, "the bytes read back differ");
    });
}

#[test]
fn a_small_file_costs_one_job() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("small");
        let before = ember::runtime::stats().tasks_spawned;
        fs::write(&path, b"small").await.unwrap();
        fs::read(&path).await.unwrap();
        assert_eq!(ember::runtime::stats().tasks_spawned - before, 2);
    });
}

#[test]
fn read_to_string_of_bytes_that_are_not_utf8_is_invalid_data() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        fs::write(&path, [0xff, 0xfe]).await.unwrap();
        let err = fs::read_to_string(&path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    });
}

#[test]
fn missing_paths_are_not_found_errors() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let missing = dir.join("missing");
        assert_eq!(
            fs::read(&missing).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            fs::metadata(&missing).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            fs::remove_file(&missing).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            fs::read_dir(&missing).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            fs::canonicalize(&missing).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert!(!fs::try_exists(&missing).await.unwrap());
        fs::create_dir(&missing).await.unwrap();
        assert_eq!(
            fs::create_dir(&missing).await.unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );
        assert!(fs::try_exists(&missing).await.unwrap());
        fs::write(dir.join("file"), b"").await.unwrap();
        let err = fs::read_dir(dir.join("file")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotADirectory);
        let err = fs::read(dir.path()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IsADirectory);
    });
}

#[test]
fn read_dir_lists_every_entry_across_several_batches() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        // More than three batches of 32.
        let names: BTreeSet<String> = (0..100).map(|i| format!("file-{i}")).collect();
        for name in &names {
            std::fs::write(dir.join(name), name).unwrap();
        }
        std::fs::create_dir(dir.join("sub")).unwrap();

        let mut entries = fs::read_dir(dir.path()).await.unwrap();
        let mut seen = BTreeSet::new();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            let name = entry.file_name().into_string().unwrap();
            assert_eq!(entry.path(), dir.join(&name));
            let is_dir = entry.file_type().await.unwrap().is_dir();
            assert_eq!(is_dir, name == "sub", "{name}");
            assert_eq!(entry.metadata().await.unwrap().is_dir(), is_dir);
            assert!(entry.ino() != 0);
            seen.insert(name);
        }
        assert!(entries.next_entry().await.unwrap().is_none());
        assert!(seen.remove("sub"));
        assert_eq!(seen, names);
    });
}

#[test]
fn read_dir_is_a_stream_of_entries() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        for i in 0..40 {
            std::fs::write(dir.join(&format!("{i}")), b"").unwrap();
        }
        let mut entries = std::pin::pin!(fs::read_dir(dir.path()).await.unwrap());
        let mut count = 0;
        while let Some(entry) =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(entries.as_mut(), cx)).await
        {
            entry.unwrap();
            count += 1;
        }
        assert_eq!(count, 40);
    });
}

#[test]
fn directories_are_created_and_removed_with_their_contents() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let deep = dir.join("a/b/c");
        fs::create_dir_all(&deep).await.unwrap();
        fs::create_dir_all(&deep).await.unwrap();
        fs::write(deep.join("f"), b"x").await.unwrap();
        assert!(fs::metadata(&deep).await.unwrap().is_dir());
        let err = fs::remove_dir(dir.join("a")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DirectoryNotEmpty);
        fs::remove_dir_all(dir.join("a")).await.unwrap();
        assert!(!fs::try_exists(dir.join("a")).await.unwrap());
        fs::create_dir(dir.join("empty")).await.unwrap();
        fs::remove_dir(dir.join("empty")).await.unwrap();
    });
}

#[test]
fn rename_copy_and_links_do_what_std_does() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let a = dir.join("a");
        fs::write(&a, b"contents").await.unwrap();
        assert_eq!(fs::copy(&a, dir.join("b")).await.unwrap(), 8);
        assert_eq!(fs::read(dir.join("b")).await.unwrap(), b"contents");
        fs::rename(dir.join("b"), dir.join("c")).await.unwrap();
        assert!(!fs::try_exists(dir.join("b")).await.unwrap());
        fs::hard_link(&a, dir.join("hard")).await.unwrap();
        assert_eq!(fs::metadata(&a).await.unwrap().len(), 8);
        fs::remove_file(&a).await.unwrap();
        assert_eq!(fs::read(dir.join("hard")).await.unwrap(), b"contents");

        fs::symlink("c", dir.join("link")).await.unwrap();
        assert_eq!(
            fs::read_link(dir.join("link")).await.unwrap(),
            std::path::Path::new("c")
        );
        assert!(fs::symlink_metadata(dir.join("link"))
            .await
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::metadata(dir.join("link")).await.unwrap().is_file());
        let real = fs::canonicalize(dir.join("link")).await.unwrap();
        assert_eq!(real, std::fs::canonicalize(dir.join("c")).unwrap());
    });
}

#[test]
fn set_permissions_changes_the_mode() {
    run(LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("f");
        fs::write(&path, b"").await.unwrap();
        fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .await
            .unwrap();
        let mode = fs::metadata(&path).await.unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    });
}
