//! The encrypted secret-key file (`keys/body.key.enc`): one 32-byte Ed25519 seed sealed with
//! XChaCha20-Poly1305 under a key that argon2id derives from a passphrase.
//!
//! The byte layout is specified in `docs/keyfile.md` (with a test vector, checked by
//! `test_vector_from_docs` below). In short, version 1 is exactly [`V1_LEN`] bytes:
//! magic, version, the argon2id parameters, salt, nonce and the key's public half in the
//! clear, then the sealed seed and its tag; everything in the clear is the AEAD's associated
//! data, so none of it can be changed without the passphrase check failing.
//!
//! The public key in the clear lets a command tell *which* key a file holds without the
//! passphrase (`body-key status`, `body-key remove`); after decryption the seed must give
//! that public key. A reader refuses a file that is not exactly one known version, and
//! argon2 parameters outside [`KdfParams::check`]'s bounds, before it allocates anything.
//! Salt and nonce come from the caller: this module uses no randomness of its own.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use confer_protocol::{PublicKey, SecretKey};
use zeroize::Zeroizing;

/// The first 8 bytes of every encrypted key file: ASCII `CONFERSK` (confer secret key).
pub const MAGIC: [u8; 8] = *b"CONFERSK";
/// The one version this code writes and reads.
pub const VERSION: u16 = 1;
pub const SALT_LEN: usize = 16;
pub const NONCE_LEN: usize = 24;
const SEED_LEN: usize = 32;
const TAG_LEN: usize = 16;
/// Bytes before the sealed seed: magic, version, m, t, p, salt, nonce, public key.
const HEADER_LEN: usize = 8 + 2 + 4 + 4 + 4 + SALT_LEN + NONCE_LEN + PublicKey::LEN;
/// The whole version-1 file: header, then the sealed seed and its tag (142 bytes).
pub const V1_LEN: usize = HEADER_LEN + SEED_LEN + TAG_LEN;

/// argon2id cost parameters, stored in the file so they can be raised later without a new
/// version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB (1 KiB = 1024 bytes).
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// What confer writes: 64 MiB, 3 passes, 1 lane (RFC 9106's second recommended
    /// option); about 0.1–0.3 s on a current core.
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };
    /// Readers refuse more than 1 GiB, so a damaged or hostile file cannot make `confer`
    /// allocate without bound.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    pub const MAX_ITERATIONS: u32 = 64;
    pub const MAX_PARALLELISM: u32 = 16;

    /// Checks the bounds every reader applies: 1 ≤ p ≤ 16, 1 ≤ t ≤ 64,
    /// 8·p ≤ m ≤ 1,048,576 KiB.
    pub fn check(&self) -> Result<(), KeyFileError> {
        let ok = (1..=Self::MAX_PARALLELISM).contains(&self.parallelism)
            && (1..=Self::MAX_ITERATIONS).contains(&self.iterations)
            && self.memory_kib >= 8 * self.parallelism
            && self.memory_kib <= Self::MAX_MEMORY_KIB;
        if ok {
            Ok(())
        } else {
            Err(KeyFileError::BadParams(*self))
        }
    }

    fn argon2(&self) -> Result<Argon2<'static>, KeyFileError> {
        self.check()?;
        let params = Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(SEED_LEN),
        )
        .map_err(|_| KeyFileError::BadParams(*self))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// A passphrase, wiped from memory when dropped and never shown by `Debug`.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// Its UTF-8 bytes, exactly as given: the KDF's password.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Length in characters.
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

/// Why an encrypted key file could not be written or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("not a confer encrypted key file (it does not start with CONFERSK)")]
    NotAKeyFile,
    #[error("encrypted key file version {0} is not known to this confer (it reads version 1); a newer confer wrote it")]
    UnknownVersion(u16),
    #[error(
        "the file is truncated or has extra bytes: {len} bytes, version 1 has exactly {expected}"
    )]
    WrongLength { len: usize, expected: usize },
    #[error("argon2id parameters out of range (m = {} KiB, t = {}, p = {})", .0.memory_kib, .0.iterations, .0.parallelism)]
    BadParams(KdfParams),
    #[error("wrong passphrase, or the file was altered")]
    WrongPassphrase,
    #[error("the decrypted key does not belong to the public key in the file")]
    KeyMismatch,
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

/// The parts of a file readable without the passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub params: KdfParams,
    pub salt: [u8; SALT_LEN],
    pub nonce: [u8; NONCE_LEN],
    pub public: PublicKey,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(V1_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&self.params.memory_kib.to_be_bytes());
        out.extend_from_slice(&self.params.iterations.to_be_bytes());
        out.extend_from_slice(&self.params.parallelism.to_be_bytes());
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(self.public.as_bytes());
        out
    }
}

/// Reads the header of `bytes`: magic, then version, then the exact length, then the
/// parameter bounds.
pub fn header(bytes: &[u8]) -> Result<Header, KeyFileError> {
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(KeyFileError::NotAKeyFile);
    }
    let mut at = MAGIC.len();
    let version = u16::from_be_bytes(take(bytes, &mut at)?);
    if version != VERSION {
        return Err(KeyFileError::UnknownVersion(version));
    }
    if bytes.len() != V1_LEN {
        return Err(KeyFileError::WrongLength {
            len: bytes.len(),
            expected: V1_LEN,
        });
    }
    let params = KdfParams {
        memory_kib: u32::from_be_bytes(take(bytes, &mut at)?),
        iterations: u32::from_be_bytes(take(bytes, &mut at)?),
        parallelism: u32::from_be_bytes(take(bytes, &mut at)?),
    };
    params.check()?;
    Ok(Header {
        params,
        salt: take(bytes, &mut at)?,
        nonce: take(bytes, &mut at)?,
        public: PublicKey::from_bytes(take(bytes, &mut at)?),
    })
}

fn take<const N: usize>(bytes: &[u8], at: &mut usize) -> Result<[u8; N], KeyFileError> {
    let end = *at + N;
    let slice = bytes.get(*at..end).ok_or(KeyFileError::WrongLength {
        len: bytes.len(),
        expected: V1_LEN,
    })?;
    *at = end;
    slice.try_into().map_err(|_| KeyFileError::WrongLength {
        len: bytes.len(),
        expected: V1_LEN,
    })
}

fn derive(
    params: &KdfParams,
    passphrase: &Passphrase,
    salt: &[u8; SALT_LEN],
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let mut key = Zeroizing::new([0u8; 32]);
    params
        .argon2()?
        .hash_password_into(passphrase.as_bytes(), salt, &mut *key)
        .map_err(|e| KeyFileError::Kdf(e.to_string()))?;
    Ok(key)
}

fn cipher(key: &[u8; 32]) -> Result<XChaCha20Poly1305, KeyFileError> {
    XChaCha20Poly1305::new_from_slice(key).map_err(|e| KeyFileError::Kdf(e.to_string()))
}

/// Seals `secret` under `passphrase`: the whole file, [`V1_LEN`] bytes. `salt` and `nonce`
/// must be fresh random bytes for every file.
pub fn seal(
    secret: &SecretKey,
    passphrase: &Passphrase,
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>, KeyFileError> {
    let header = Header {
        params,
        salt,
        nonce,
        public: secret.public(),
    };
    let key = derive(&params, passphrase, &salt)?;
    let mut out = header.encode();
    let seed = secret.seed();
    let sealed = cipher(&key)?
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &seed[..],
                aad: &out,
            },
        )
        .map_err(|_| KeyFileError::Kdf("encryption failed".into()))?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a file [`seal`] wrote. A wrong passphrase and an altered file are the same error.
pub fn open(bytes: &[u8], passphrase: &Passphrase) -> Result<SecretKey, KeyFileError> {
    let header = header(bytes)?;
    let key = derive(&header.params, passphrase, &header.salt)?;
    let opened = cipher(&key)?
        .decrypt(
            XNonce::from_slice(&header.nonce),
            Payload {
                msg: &bytes[HEADER_LEN..],
                aad: &bytes[..HEADER_LEN],
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| KeyFileError::WrongPassphrase)?;
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    if opened.len() != SEED_LEN {
        return Err(KeyFileError::KeyMismatch);
    }
    seed.copy_from_slice(&opened);
    let secret = SecretKey::from_seed(*seed);
    if secret.public() != header.public {
        return Err(KeyFileError::KeyMismatch);
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Cheap parameters for the tests that do not need the real ones.
    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn pass(text: &str) -> Passphrase {
        Passphrase::new(text.to_owned())
    }

    #[test]
    fn round_trip_at_the_real_parameters() {
        let secret = SecretKey::from_seed([9; 32]);
        let file = seal(
            &secret,
            &pass("correct horse"),
            KdfParams::DEFAULT,
            [1; 16],
            [2; 24],
        )
        .unwrap();
        assert_eq!(file.len(), V1_LEN);
        assert_eq!(header(&file).unwrap().public, secret.public());
        assert_eq!(header(&file).unwrap().params, KdfParams::DEFAULT);
        let opened = open(&file, &pass("correct horse")).unwrap();
        assert_eq!(*opened.seed(), [9; 32]);
    }

    #[test]
    fn wrong_passphrase_and_every_altered_byte_are_refused() {
        let secret = SecretKey::from_seed([5; 32]);
        let file = seal(&secret, &pass("passphrase"), FAST, [3; 16], [4; 24]).unwrap();
        assert_eq!(
            open(&file, &pass("Passphrase")).err(),
            Some(KeyFileError::WrongPassphrase)
        );
        assert_eq!(
            open(&file, &pass("")).err(),
            Some(KeyFileError::WrongPassphrase)
        );
        // Flip one bit anywhere after the version: the header is associated data, so
        // parameters, salt, nonce and public key are covered as much as the ciphertext.
        for at in 10..file.len() {
            let mut bad = file.clone();
            bad[at] ^= 0x01;
            let err = open(&bad, &pass("passphrase")).err();
            assert!(
                matches!(
                    err,
                    Some(KeyFileError::WrongPassphrase) | Some(KeyFileError::BadParams(_))
                ),
                "byte {at}: {err:?}"
            );
        }
        assert!(open(&file, &pass("passphrase")).is_ok());
    }

    #[test]
    fn truncated_extended_foreign_and_future_files_are_refused() {
        let file = seal(
            &SecretKey::from_seed([6; 32]),
            &pass("passphrase"),
            FAST,
            [0; 16],
            [0; 24],
        )
        .unwrap();
        let p = pass("passphrase");
        for len in [0, 5, 8, 9] {
            assert!(open(&file[..len], &p).is_err(), "{len}");
        }
        for len in [10, 40, V1_LEN - 1] {
            assert_eq!(
                open(&file[..len], &p).err(),
                Some(KeyFileError::WrongLength {
                    len,
                    expected: V1_LEN
                })
            );
        }
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(
            open(&longer, &p),
            Err(KeyFileError::WrongLength { .. })
        ));
        let mut foreign = file.clone();
        foreign[0] = b'X';
        assert_eq!(open(&foreign, &p).err(), Some(KeyFileError::NotAKeyFile));
        assert_eq!(
            open(b"0123456789abcdef0123456789abcdef\n", &p).err(),
            Some(KeyFileError::NotAKeyFile)
        );
        let mut future = file.clone();
        future[8..10].copy_from_slice(&2u16.to_be_bytes());
        assert_eq!(
            open(&future, &p).err(),
            Some(KeyFileError::UnknownVersion(2))
        );
        // A future version may be any length: the version is judged before the length.
        assert_eq!(
            open(&future[..12], &p).err(),
            Some(KeyFileError::UnknownVersion(2))
        );
    }

    #[test]
    fn parameters_out_of_bounds_are_refused_before_any_work() {
        let file = seal(
            &SecretKey::from_seed([6; 32]),
            &pass("passphrase"),
            FAST,
            [0; 16],
            [0; 24],
        )
        .unwrap();
        for (m, t, p) in [
            (KdfParams::MAX_MEMORY_KIB + 1, 1, 1),
            (u32::MAX, 1, 1),
            (7, 1, 1),
            (64, 0, 1),
            (64, 65, 1),
            (64, 1, 0),
            (1024, 1, 17),
        ] {
            let mut bad = file.clone();
            bad[10..14].copy_from_slice(&u32::to_be_bytes(m));
            bad[14..18].copy_from_slice(&u32::to_be_bytes(t));
            bad[18..22].copy_from_slice(&u32::to_be_bytes(p));
            assert!(
                matches!(header(&bad), Err(KeyFileError::BadParams(_))),
                "{m} {t} {p}"
            );
        }
        assert!(seal(
            &SecretKey::from_seed([6; 32]),
            &pass("x"),
            KdfParams {
                memory_kib: 8,
                iterations: 0,
                parallelism: 1
            },
            [0; 16],
            [0; 24]
        )
        .is_err());
    }

    #[test]
    fn a_file_whose_public_key_lies_is_refused() {
        // Built by hand with a matching tag, as only someone with the passphrase could.
        let params = FAST;
        let (salt, nonce) = ([7; 16], [8; 24]);
        let header = Header {
            params,
            salt,
            nonce,
            public: SecretKey::from_seed([2; 32]).public(),
        };
        let mut file = header.encode();
        let key = derive(&params, &pass("passphrase"), &salt).unwrap();
        let sealed = cipher(&key)
            .unwrap()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &[1u8; 32][..],
                    aad: &file,
                },
            )
            .unwrap();
        file.extend_from_slice(&sealed);
        assert_eq!(
            open(&file, &pass("passphrase")).err(),
            Some(KeyFileError::KeyMismatch)
        );
    }

    #[test]
    fn debug_never_shows_the_passphrase() {
        let p = pass("hunter2 secret");
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    /// The test vector in docs/keyfile.md.
    #[test]
    fn test_vector_from_docs() {
        let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
        let salt: [u8; 16] = std::array::from_fn(|i| 0x10 + i as u8);
        let nonce: [u8; 24] = std::array::from_fn(|i| 0x20 + i as u8);
        let params = KdfParams {
            memory_kib: 256,
            iterations: 2,
            parallelism: 1,
        };
        let file = seal(
            &SecretKey::from_seed(seed),
            &pass("correct horse battery staple"),
            params,
            salt,
            nonce,
        )
        .unwrap();
        let docs = include_str!("../../../docs/keyfile.md");
        let vector = docs
            .split("<!-- test vector -->")
            .nth(1)
            .expect("docs/keyfile.md holds the test vector between markers");
        let expected: String = vector
            .lines()
            .filter(|l| !l.starts_with("```") && !l.trim().is_empty())
            .flat_map(|l| l.split_whitespace())
            .collect();
        assert_eq!(hex::encode(&file), expected);
        assert_eq!(
            *open(&file, &pass("correct horse battery staple"))
                .unwrap()
                .seed(),
            seed
        );
    }
}
