//! How many uploads run at once: each holds a connection and writes a file as it arrives, so
//! a server takes a few at a time, and one user a couple of them; the next is told to wait.

use anchora_core::{Error, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Uploads one server process takes at once.
pub const PER_SERVER: usize = 4;
/// Uploads one user sends at once.
pub const PER_USER: usize = 2;

#[derive(Debug, Clone)]
pub struct UploadSlots {
    server: Arc<Semaphore>,
    users: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl Default for UploadSlots {
    fn default() -> Self {
        Self::new(PER_SERVER)
    }
}

/// A slot held for one upload, given back when dropped.
#[derive(Debug)]
pub struct UploadSlot {
    _server: OwnedSemaphorePermit,
    user: UserId,
    users: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        if let Ok(mut users) = self.users.lock()
            && let Some(n) = users.get_mut(&self.user)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                users.remove(&self.user);
            }
        }
    }
}

impl UploadSlots {
    pub fn new(per_server: usize) -> Self {
        Self {
            server: Arc::new(Semaphore::new(per_server)),
            users: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A slot for this user's upload, or a 429 saying to wait for one to finish.
    pub fn take(&self, user: UserId) -> Result<UploadSlot, Error> {
        let busy = |who: &str| {
            Error::rate_limited(
                format!("{who} uploading as many files as it takes at once; try again when one has finished"),
                5,
            )
        };
        let mut users = self.users.lock().map_err(|_| busy("the server is"))?;
        let mine = users.get(&user).copied().unwrap_or(0);
        if mine >= PER_USER {
            return Err(busy("you are"));
        }
        let permit = self
            .server
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy("the server is"))?;
        users.insert(user, mine + 1);
        Ok(UploadSlot {
            _server: permit,
            user,
            users: self.users.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_and_the_server_take_a_few_uploads_at_once() {
        let slots = UploadSlots::new(3);
        let (a, b) = (UserId(uuid::Uuid::now_v7()), UserId(uuid::Uuid::now_v7()));
        let a1 = slots.take(a).unwrap();
        let _a2 = slots.take(a).unwrap();
        assert_eq!(slots.take(a).unwrap_err().code, anchora_core::ErrorCode::RateLimited);
        let _b1 = slots.take(b).unwrap();
        assert!(slots.take(b).is_err(), "the server's three are taken");
        drop(a1);
        let _b2 = slots.take(b).unwrap();
    }
}
