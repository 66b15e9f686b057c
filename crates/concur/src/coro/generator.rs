//! `Generator`: a body that pauses at each yield, driven by `send`.

use std::cell::{Cell, RefCell};
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// An error delivered into a generator with [`Generator::throw`], or raised
/// by its body. The body sees it at the paused yield and may handle it.
///
/// # Examples
///
/// ```
/// use concur::coro::Thrown;
///
/// let thrown = Thrown::new("stop counting");
/// assert_eq!(thrown.to_string(), "stop counting");
/// assert!(!thrown.is_generator_exit());
/// ```
#[derive(Debug)]
pub struct Thrown(
    // Boxed twice so that `Thrown` is one pointer wide: a body's
    // `Poll<Result<(), Thrown>>` then comes back in registers, and the `?`
    // path at each yield keeps fewer registers saved; measured, a send round
    // trip is about 4% faster. An error costs one more small allocation, on
    // a path far slower than a send already.
    Box<Box<dyn Error + Send + Sync>>,
);

impl Thrown {
    /// An error carrying `message`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::coro::Thrown::new("bad input").to_string(), "bad input");
    /// ```
    pub fn new(message: impl Into<String>) -> Thrown {
        Thrown(Box::new(message.into().into()))
    }

    /// Whether this is the [`GeneratorExit`] that [`Generator::close`]
    /// delivers.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::{GeneratorExit, Thrown};
    ///
    /// assert!(Thrown::from(GeneratorExit).is_generator_exit());
    /// ```
    pub fn is_generator_exit(&self) -> bool {
        (**self.0).is::<GeneratorExit>()
    }

    /// The error inside, if it is an `E`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::Thrown;
    ///
    /// let thrown = Thrown::from(std::fmt::Error);
    /// assert!(thrown.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        (**self.0).downcast_ref()
    }
}

impl<E: Error + Send + Sync + 'static> From<E> for Thrown {
    fn from(error: E) -> Thrown {
        Thrown(Box::new(Box::new(error)))
    }
}

impl fmt::Display for Thrown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self.0, f)
    }
}

/// What [`Generator::close`] delivers at the paused yield: the body's cue to
/// clean up and finish.
///
/// # Examples
///
/// ```
/// assert_eq!(concur::coro::GeneratorExit.to_string(), "the generator was closed");
/// ```
///
/// # Python
///
/// `GeneratorExit`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratorExit;

impl fmt::Display for GeneratorExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the generator was closed")
    }
}

impl Error for GeneratorExit {}

/// Where a generator stopped.
///
/// # Examples
///
/// ```
/// use concur::coro::{Generator, State};
///
/// let mut g = Generator::new(|co| async move {
///     co.yield_(1).await?;
///     Ok("done")
/// });
/// assert_eq!(g.resume().unwrap(), State::Yielded(1));
/// assert_eq!(g.resume().unwrap(), State::Complete("done"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State<Y, R> {
    /// Paused at a yield, with the value yielded.
    Yielded(Y),
    /// Finished, with the body's return value.
    Complete(R),
}

/// Why a generator call did not run the body.
///
/// # Examples
///
/// ```
/// use concur::coro::{Generator, GeneratorError};
///
/// let mut g: Generator<u8, u8, ()> = Generator::with_input(|co| async move {
///     co.yield_(1).await?;
///     Ok(())
/// });
/// assert!(matches!(g.send(5), Err(GeneratorError::NotStarted)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum GeneratorError {
    /// A value was sent into a generator that has not started; start it
    /// with `start` or `resume` first (Python: `TypeError`).
    NotStarted,
    /// `start` was called on a generator already started; resume it with
    /// `send` or `resume`.
    AlreadyStarted,
    /// The generator already finished (Python: `StopIteration`).
    Finished,
    /// The body ended with this error: one thrown in that it did not
    /// handle, or its own.
    Raised(Thrown),
    /// The body yielded again after `close` (Python: `RuntimeError:
    /// generator ignored GeneratorExit`); it is finished now.
    IgnoredClose,
}

impl fmt::Display for GeneratorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeneratorError::NotStarted => {
                f.write_str("cannot send a value into a generator that has not started: call start() or resume() first")
            }
            GeneratorError::AlreadyStarted => {
                f.write_str("the generator has already started: resume it with send() or resume()")
            }
            GeneratorError::Finished => f.write_str("the generator has finished: it cannot be resumed"),
            GeneratorError::Raised(thrown) => write!(f, "the generator raised: {thrown}"),
            GeneratorError::IgnoredClose => {
                f.write_str("the generator yielded after close(): a closed generator must finish")
            }
        }
    }
}

impl Error for GeneratorError {}

/// What a paused yield resumes with.
enum Input<S> {
    Value(S),
    Throw(Thrown),
    Close,
}

/// What the driver delivers at a yield instead of a value.
enum Interrupt {
    Throw(Thrown),
    Close,
}

/// The hand-over between the driver and the body. Only one side runs at a
/// time (the body runs inside the driver's poll), so plain cells suffice;
/// that is also why a generator stays on its thread.
///
/// A sent value has a cell of its own rather than sharing one `Input` enum
/// with throw and close: `send` then writes and the yield reads just the
/// value, which the compiler keeps in scalar moves. Passing the whole enum
/// through memory cost a store-forwarding stall per send (measured).
struct Slot<Y, S> {
    sent: Cell<Option<S>>,
    interrupt: Cell<Option<Interrupt>>,
    output: Cell<Option<Y>>,
    /// The type name of the body's function, for [`Generator::name`].
    name: &'static str,
    /// The sub-generator a `yield_from` of this body runs, while it runs.
    delegate: RefCell<Option<Rc<Slot<Y, S>>>>,
}

type Body<R> = Pin<Box<dyn Future<Output = Result<R, Thrown>>>>;

/// The body's side of a generator: where it yields.
///
/// # Examples
///
/// ```
/// use concur::coro::Generator;
///
/// let mut squares = Generator::new(|co| async move {
///     for n in 1..=3 {
///         co.yield_(n * n).await?;
///     }
///     Ok(())
/// });
/// let all: Vec<u32> = squares.by_ref().map(Result::unwrap).collect();
/// assert_eq!(all, [1, 4, 9]);
/// ```
pub struct Co<Y, S> {
    slot: Rc<Slot<Y, S>>,
}

impl<Y, S> Co<Y, S> {
    /// Yields `value` to the driver and pauses until it resumes the
    /// generator; returns what it sent, or the error it threw in.
    ///
    /// # Errors
    ///
    /// The [`Thrown`] error the driver delivered with
    /// [`Generator::throw`], or [`GeneratorExit`] from
    /// [`Generator::close`]. Return it (`?`) to end the body with it, or
    /// handle it and go on.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::{Generator, State};
    ///
    /// let mut echo = Generator::with_input(|co| async move {
    ///     let mut heard = co.yield_("ready").await?;
    ///     loop {
    ///         heard = co.yield_(heard).await?;
    ///     }
    /// });
    /// assert_eq!(echo.start().unwrap(), State::<&str, ()>::Yielded("ready"));
    /// assert_eq!(echo.send("hello").unwrap(), State::Yielded("hello"));
    /// ```
    ///
    /// # Python
    ///
    /// `received = yield value`.
    pub fn yield_(&self, value: Y) -> impl Future<Output = Result<S, Thrown>> + '_ {
        Yield(YieldNow { slot: &self.slot, value: Some(value) })
    }

    /// Runs `sub` to its end inside this generator: its yields go to this
    /// generator's driver, and what the driver sends or throws goes to
    /// `sub`. Returns `sub`'s return value.
    ///
    /// # Errors
    ///
    /// What `sub` raised; [`GeneratorExit`] if this generator was closed
    /// while `sub` ran (after `sub` was closed).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::{Generator, State};
    ///
    /// fn countdown(from: u32) -> Generator<u32, (), &'static str> {
    ///     Generator::new(move |co| async move {
    ///         for n in (1..=from).rev() {
    ///             co.yield_(n).await?;
    ///         }
    ///         Ok("liftoff")
    ///     })
    /// }
    ///
    /// let mut launch = Generator::new(|co| async move {
    ///     let word = co.yield_from(countdown(2)).await?;
    ///     co.yield_(0).await?;
    ///     Ok(word)
    /// });
    /// let mut seen = Vec::new();
    /// let word = loop {
    ///     match launch.resume().unwrap() {
    ///         State::Yielded(n) => seen.push(n),
    ///         State::Complete(word) => break word,
    ///     }
    /// };
    /// assert_eq!(seen, [2, 1, 0]);
    /// assert_eq!(word, "liftoff");
    /// ```
    ///
    /// # Python
    ///
    /// `result = yield from sub` (PEP 380).
    pub async fn yield_from<R2>(&self, mut sub: Generator<Y, S, R2>) -> Result<R2, Thrown> {
        // Seen from outside only while this body is paused, that is while
        // `sub` is; cleared however this call ends, a dropped body included.
        let _delegating = Delegating::new(&self.slot, &sub.slot);
        let mut step = sub.start();
        loop {
            let yielded = match step {
                Ok(State::Complete(result)) => return Ok(result),
                Ok(State::Yielded(value)) => value,
                Err(GeneratorError::Raised(thrown)) => return Err(thrown),
                Err(other) => return Err(Thrown::from(other)),
            };
            step = match (YieldNow { slot: &self.slot, value: Some(yielded) }).await {
                Input::Value(sent) => sub.send(sent),
                // PEP 380: a GeneratorExit, thrown or from close, closes
                // the inner generator, then ends this one.
                Input::Throw(thrown) if thrown.is_generator_exit() => return close_sub(sub).and(Err(thrown)),
                Input::Throw(thrown) => sub.throw(thrown),
                Input::Close => return close_sub(sub).and(Err(Thrown::from(GeneratorExit))),
            };
        }
    }
}

/// Marks a body as delegating to a sub-generator for as long as it lives.
struct Delegating<'a, Y, S>(&'a Slot<Y, S>);

impl<'a, Y, S> Delegating<'a, Y, S> {
    fn new(outer: &'a Slot<Y, S>, sub: &Rc<Slot<Y, S>>) -> Delegating<'a, Y, S> {
        *outer.delegate.borrow_mut() = Some(Rc::clone(sub));
        Delegating(outer)
    }
}

impl<Y, S> Drop for Delegating<'_, Y, S> {
    fn drop(&mut self) {
        self.0.delegate.borrow_mut().take();
    }
}

/// Closes a sub-generator for `yield_from`; an error it ends with comes out
/// as itself, not wrapped in the sub's `GeneratorError`.
fn close_sub<Y, S, R>(mut sub: Generator<Y, S, R>) -> Result<(), Thrown> {
    match sub.close() {
        Ok(()) => Ok(()),
        Err(GeneratorError::Raised(thrown)) => Err(thrown),
        Err(other) => Err(Thrown::from(other)),
    }
}

impl<Y, S> fmt::Debug for Co<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co").finish_non_exhaustive()
    }
}

/// The pause at a yield: the first poll hands the value out and suspends,
/// the second takes what the driver put in.
struct YieldNow<'a, Y, S> {
    slot: &'a Slot<Y, S>,
    value: Option<Y>,
}

impl<Y, S> Future for YieldNow<'_, Y, S> {
    type Output = Input<S>;

    #[inline]
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Input<S>> {
        // `YieldNow` holds no self-reference, so it is `Unpin` whatever `Y`
        // is; taking `&mut` out of the pin is fine.
        let this = Pin::into_inner(self);
        if let Some(value) = this.value.take() {
            this.slot.output.set(Some(value));
            return Poll::Pending;
        }
        if let Some(sent) = this.slot.sent.take() {
            return Poll::Ready(Input::Value(sent));
        }
        match this.slot.interrupt.take() {
            Some(Interrupt::Throw(thrown)) => Poll::Ready(Input::Throw(thrown)),
            Some(Interrupt::Close) => Poll::Ready(Input::Close),
            // Polled again without a resume: only the driver polls, and it
            // always puts an input first; stay paused if not.
            None => Poll::Pending,
        }
    }
}

impl<Y, S> Unpin for YieldNow<'_, Y, S> {}

/// [`YieldNow`] with the input turned into what the body sees: a future of
/// its own rather than an `async` block, so each yield is one poll deep.
struct Yield<'a, Y, S>(YieldNow<'a, Y, S>);

impl<Y, S> Future for Yield<'_, Y, S> {
    type Output = Result<S, Thrown>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<S, Thrown>> {
        Pin::new(&mut self.0).poll(cx).map(|input| match input {
            Input::Value(sent) => Ok(sent),
            Input::Throw(thrown) => Err(thrown),
            Input::Close => Err(generator_exit()),
        })
    }
}

/// The error `close` delivers, made out of line: it allocates, and inlined
/// into every yield of every body it would only crowd the resume path.
#[cold]
#[inline(never)]
fn generator_exit() -> Thrown {
    Thrown::from(GeneratorExit)
}

/// A Python generator: a body that produces values one at a time, pausing
/// at each yield until the caller asks for the next — and can receive a
/// value at each pause.
///
/// The body is an `async` block given a [`Co`] to yield through; the caller
/// drives it with [`start`](Self::start) / [`resume`](Self::resume) (Python's
/// `next`), [`send`](Self::send), [`throw`](Self::throw) and
/// [`close`](Self::close). Nothing else runs it: there is no executor and no
/// thread, only the calls. A generator stays on the thread that made it.
///
/// `Y` is what the body yields, `S` what is sent in, `R` what it returns.
/// The body returns `Result<R, Thrown>`, so errors thrown in with `throw` can
/// pass through it with `?`.
///
/// # Examples
///
/// A running total that is sent numbers and yields the sum so far:
///
/// ```
/// use concur::coro::{Generator, State};
///
/// let mut total = Generator::with_input(|co| async move {
///     let mut sum = 0;
///     loop {
///         sum += co.yield_(sum).await?;
///     }
/// });
/// assert_eq!(total.start().unwrap(), State::<i32, ()>::Yielded(0));
/// assert_eq!(total.send(5).unwrap(), State::Yielded(5));
/// assert_eq!(total.send(10).unwrap(), State::Yielded(15));
/// ```
///
/// # Python
///
/// A generator function's object: `next(g)` as [`resume`](Self::resume),
/// `g.send(v)`, `g.throw(e)`, `g.close()`, `yield from` as
/// [`Co::yield_from`], and iteration. Dropping a paused generator drops its
/// body (its locals' destructors run); call [`close`](Self::close) for the
/// body to see [`GeneratorExit`] first, as Python's collector does.
pub struct Generator<Y, S = (), R = ()> {
    slot: Rc<Slot<Y, S>>,
    /// `None` once finished.
    body: Option<Body<R>>,
    started: bool,
}

impl<Y: 'static, R: 'static> Generator<Y, (), R> {
    /// A generator that will run `body` when started, and is resumed
    /// without values: the common kind, a lazy sequence. For one that is
    /// sent values, see [`with_input`](Self::with_input).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = concur::coro::Generator::new(|co| async move {
    ///     co.yield_('a').await?;
    ///     Ok(())
    /// });
    /// assert_eq!(g.next().unwrap().unwrap(), 'a');
    /// ```
    pub fn new<F, Fut>(body: F) -> Generator<Y, (), R>
    where
        F: FnOnce(Co<Y, ()>) -> Fut,
        Fut: Future<Output = Result<R, Thrown>> + 'static,
    {
        Generator::with_input(body)
    }
}

impl<Y: 'static, S: 'static, R: 'static> Generator<Y, S, R> {
    /// A generator that will run `body` when started, and is sent values of
    /// type `S` with [`send`](Self::send): each paused `yield_` returns the
    /// value sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::{Generator, State};
    ///
    /// let mut greeter = Generator::with_input(|co| async move {
    ///     let mut name: String = co.yield_(String::new()).await?;
    ///     loop {
    ///         name = co.yield_(format!("hello, {name}")).await?;
    ///     }
    /// });
    /// greeter.start().unwrap();
    /// assert_eq!(greeter.send("Ada".into()).unwrap(), State::<_, ()>::Yielded("hello, Ada".to_string()));
    /// ```
    pub fn with_input<F, Fut>(body: F) -> Generator<Y, S, R>
    where
        F: FnOnce(Co<Y, S>) -> Fut,
        Fut: Future<Output = Result<R, Thrown>> + 'static,
    {
        let slot = Rc::new(Slot {
            sent: Cell::new(None),
            interrupt: Cell::new(None),
            output: Cell::new(None),
            name: std::any::type_name::<F>(),
            delegate: RefCell::new(None),
        });
        let body = Box::pin(body(Co { slot: Rc::clone(&slot) }));
        Generator { slot, body: Some(body), started: false }
    }
}

impl<Y, S, R> Generator<Y, S, R> {
    /// Runs the body to its first yield (or its end).
    ///
    /// # Errors
    ///
    /// [`GeneratorError::AlreadyStarted`] if it was started before
    /// ([`GeneratorError::Finished`] if it has finished since);
    /// [`GeneratorError::Raised`] if the body ends with an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::{Generator, State};
    ///
    /// let mut g: Generator<u8, u8, ()> = Generator::with_input(|co| async move {
    ///     co.yield_(7).await?;
    ///     Ok(())
    /// });
    /// assert_eq!(g.start().unwrap(), State::Yielded(7));
    /// ```
    ///
    /// # Python
    ///
    /// The first `next(g)` (or `g.send(None)`).
    pub fn start(&mut self) -> Result<State<Y, R>, GeneratorError> {
        if self.started {
            return Err(if self.body.is_some() { GeneratorError::AlreadyStarted } else { GeneratorError::Finished });
        }
        self.started = true;
        self.step()
    }

    /// Resumes the generator with `value`, which the paused `yield_`
    /// returns; runs to the next yield or the end.
    ///
    /// # Errors
    ///
    /// [`GeneratorError::NotStarted`] before [`start`](Self::start);
    /// [`GeneratorError::Finished`] after the end; [`GeneratorError::Raised`]
    /// if the body ends with an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::{Generator, GeneratorError, State};
    ///
    /// let mut doubler = Generator::with_input(|co| async move {
    ///     let mut n: u64 = co.yield_(0).await?;
    ///     loop {
    ///         n = co.yield_(n * 2).await?;
    ///     }
    /// });
    /// let _: State<u64, ()> = doubler.start().unwrap();
    /// assert_eq!(doubler.send(21).unwrap(), State::Yielded(42));
    /// ```
    ///
    /// # Python
    ///
    /// `g.send(value)`.
    #[inline]
    pub fn send(&mut self, value: S) -> Result<State<Y, R>, GeneratorError> {
        if !self.started {
            return Err(GeneratorError::NotStarted);
        }
        if self.body.is_none() {
            return Err(GeneratorError::Finished);
        }
        self.slot.sent.set(Some(value));
        self.step()
    }

    /// Delivers `error` at the paused yield, where the body may handle it
    /// and go on (yielding again, or finishing) or let it end the body.
    ///
    /// # Errors
    ///
    /// [`GeneratorError::Raised`] with the error the body ended with — the
    /// one thrown in, if unhandled. Thrown into a generator not started or
    /// finished, the error comes straight back as `Raised`, as in Python.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::{Generator, State, Thrown};
    ///
    /// let mut patient = Generator::new(|co| async move {
    ///     loop {
    ///         match co.yield_("waiting").await {
    ///             Ok(()) => {}
    ///             Err(e) if e.to_string() == "hurry" => return Ok("done early"),
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    /// });
    /// patient.start().unwrap();
    /// assert_eq!(patient.throw(Thrown::new("hurry")).unwrap(), State::Complete("done early"));
    /// ```
    ///
    /// # Python
    ///
    /// `g.throw(exc)`.
    pub fn throw(&mut self, error: impl Into<Thrown>) -> Result<State<Y, R>, GeneratorError> {
        let error = error.into();
        if !self.started || self.body.is_none() {
            // Python: the exception is raised at the start, which ends the
            // generator, or raised again by a finished one.
            self.started = true;
            self.body = None;
            return Err(GeneratorError::Raised(error));
        }
        self.slot.interrupt.set(Some(Interrupt::Throw(error)));
        self.step()
    }

    /// Ends the generator: delivers [`GeneratorExit`] at the paused yield so
    /// the body can clean up, and expects it to finish. Closing a generator
    /// not started or already finished just marks it finished.
    ///
    /// # Errors
    ///
    /// [`GeneratorError::IgnoredClose`] if the body yielded again;
    /// [`GeneratorError::Raised`] if it ended with an error other than
    /// `GeneratorExit`. Either way the generator is finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::{Cell, RefCell};
    /// use std::rc::Rc;
    /// use concur::coro::Generator;
    ///
    /// let cleaned = Rc::new(Cell::new(false));
    /// let flag = cleaned.clone();
    /// let mut g = Generator::new(move |co| async move {
    ///     let result = co.yield_(1).await;
    ///     flag.set(true); // cleanup, whatever came in
    ///     result.map(drop)
    /// });
    /// g.start().unwrap();
    /// g.close().unwrap();
    /// assert!(cleaned.get());
    /// ```
    ///
    /// # Python
    ///
    /// `g.close()`.
    pub fn close(&mut self) -> Result<(), GeneratorError> {
        if !self.started || self.body.is_none() {
            self.started = true;
            self.body = None;
            return Ok(());
        }
        self.slot.interrupt.set(Some(Interrupt::Close));
        match self.step() {
            Ok(State::Complete(_)) => Ok(()),
            Ok(State::Yielded(_)) => {
                self.body = None;
                Err(GeneratorError::IgnoredClose)
            }
            Err(GeneratorError::Raised(thrown)) if thrown.is_generator_exit() => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// Whether the generator has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = concur::coro::Generator::new(|_co: concur::coro::Co<(), ()>| async { Ok(()) });
    /// assert!(!g.is_finished());
    /// g.start().unwrap();
    /// assert!(g.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.body.is_none()
    }

    /// The name of the function that made the generator: the path of the
    /// closure given to [`new`](Self::new) or
    /// [`with_input`](Self::with_input), as `std::any::type_name` spells it,
    /// without its `{{closure}}` parts — `my_crate::countdown` for a
    /// generator made in `fn countdown`. Like `type_name`'s, the spelling is
    /// for people (logs, debugging) and may change between compilers.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::Generator;
    ///
    /// fn countdown() -> Generator<u32> {
    ///     Generator::new(|co| async move {
    ///         co.yield_(1).await?;
    ///         Ok(())
    ///     })
    /// }
    /// assert!(countdown().name().ends_with("countdown"));
    /// ```
    ///
    /// # Python
    ///
    /// `gi_name` / `__qualname__`.
    #[doc(alias = "gi_name")]
    pub fn name(&self) -> &'static str {
        name_of(&self.slot)
    }

    /// The sub-generator this one is running with
    /// [`Co::yield_from`](Co::yield_from) at the yield it is paused at, if
    /// any: the generator whose yields the caller is receiving.
    ///
    /// `None` before the generator starts, when it is paused at a plain
    /// `yield_`, and once it has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::Generator;
    ///
    /// fn inner() -> Generator<&'static str> {
    ///     Generator::new(|co| async move {
    ///         co.yield_("from inner").await?;
    ///         Ok(())
    ///     })
    /// }
    ///
    /// let mut outer = Generator::new(|co| async move {
    ///     co.yield_from(inner()).await?;
    ///     co.yield_("from outer").await?;
    ///     Ok(())
    /// });
    /// assert!(outer.yielding_from().is_none()); // not started
    /// outer.resume().unwrap();
    /// assert!(outer.yielding_from().unwrap().name().ends_with("inner"));
    /// outer.resume().unwrap();
    /// assert!(outer.yielding_from().is_none()); // at its own yield
    /// ```
    ///
    /// # Python
    ///
    /// `gi_yieldfrom`. Python's is the sub-generator object itself; here
    /// `yield_from` owns the sub-generator, so this is a view of it — its
    /// name, and what it is yielding from in turn.
    #[doc(alias = "gi_yieldfrom")]
    pub fn yielding_from(&self) -> Option<SubGenerator<Y, S>> {
        delegate_of(&self.slot)
    }

    /// Runs the body on from its paused yield, where the caller has put
    /// what it resumes with.
    ///
    /// `send` inlines this into the caller so the result is built in place
    /// rather than returned through memory; the rare outcomes (the end, a
    /// foreign await) are out of line to keep the inlined part short.
    #[inline]
    fn step(&mut self) -> Result<State<Y, R>, GeneratorError> {
        let Some(body) = self.body.as_mut() else { return Err(GeneratorError::Finished) };
        match body.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Pending => match self.slot.output.take() {
                Some(value) => Ok(State::Yielded(value)),
                None => Err(self.awaited_foreign()),
            },
            Poll::Ready(result) => self.finish(result),
        }
    }

    /// The body paused without yielding: it awaited something other than a
    /// yield, and a generator body may only wait on its own yields.
    #[cold]
    #[inline(never)]
    fn awaited_foreign(&mut self) -> GeneratorError {
        self.body = None;
        GeneratorError::Raised(Thrown::new(
            "a generator body awaited something other than its own yield_ or yield_from",
        ))
    }

    /// The body returned: the generator is finished, with its result.
    #[cold]
    #[inline(never)]
    fn finish(&mut self, result: Result<R, Thrown>) -> Result<State<Y, R>, GeneratorError> {
        self.body = None;
        result.map(State::Complete).map_err(GeneratorError::Raised)
    }
}

impl<Y, S: Default, R> Generator<Y, S, R> {
    /// Starts the generator, or resumes it sending `S::default()` — for the
    /// usual `S = ()`, "give me the next value".
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start) and [`send`](Self::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::{Generator, State};
    ///
    /// let mut g = Generator::new(|co| async move {
    ///     co.yield_(1).await?;
    ///     co.yield_(2).await?;
    ///     Ok(())
    /// });
    /// assert_eq!(g.resume().unwrap(), State::Yielded(1));
    /// assert_eq!(g.resume().unwrap(), State::Yielded(2));
    /// assert_eq!(g.resume().unwrap(), State::Complete(()));
    /// assert!(g.resume().is_err());
    /// ```
    ///
    /// # Python
    ///
    /// `next(g)`.
    pub fn resume(&mut self) -> Result<State<Y, R>, GeneratorError> {
        if self.started {
            self.send(S::default())
        } else {
            self.start()
        }
    }
}

/// Iterating resumes the generator until it finishes; an error the body ends
/// with is the last item.
impl<Y, S: Default, R> Iterator for Generator<Y, S, R> {
    type Item = Result<Y, Thrown>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.resume() {
            Ok(State::Yielded(value)) => Some(Ok(value)),
            Ok(State::Complete(_)) | Err(GeneratorError::Finished) => None,
            Err(GeneratorError::Raised(thrown)) => Some(Err(thrown)),
            Err(other) => Some(Err(Thrown::from(other))),
        }
    }
}

impl<Y, S, R> fmt::Debug for Generator<Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match (self.started, self.body.is_some()) {
            (false, _) => "not started",
            (true, true) => "paused",
            (true, false) => "finished",
        };
        f.debug_struct("Generator").field("state", &state).finish()
    }
}

/// A view of a sub-generator that a paused generator is running with
/// [`Co::yield_from`]: made by [`Generator::yielding_from`].
///
/// It names the sub-generator and says what that one is yielding from in
/// turn, so a chain of `yield_from`s can be walked from the outside.
///
/// # Examples
///
/// ```
/// use concur::coro::Generator;
///
/// fn leaf() -> Generator<u8> {
///     Generator::new(|co| async move {
///         co.yield_(1).await?;
///         Ok(())
///     })
/// }
/// fn middle() -> Generator<u8> {
///     Generator::new(|co| async move { co.yield_from(leaf()).await })
/// }
///
/// let mut top = Generator::new(|co| async move { co.yield_from(middle()).await });
/// top.resume().unwrap();
/// let first = top.yielding_from().unwrap();
/// assert!(first.name().ends_with("middle"));
/// assert!(first.yielding_from().unwrap().name().ends_with("leaf"));
/// ```
///
/// # Python
///
/// The object `gi_yieldfrom` returns, as far as `gi_name` and its own
/// `gi_yieldfrom` go.
pub struct SubGenerator<Y, S> {
    slot: Rc<Slot<Y, S>>,
}

impl<Y, S> SubGenerator<Y, S> {
    /// The sub-generator's name, as [`Generator::name`] gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::Generator;
    ///
    /// fn numbers() -> Generator<u8> {
    ///     Generator::new(|co| async move { co.yield_(7).await.map(|_| ()) })
    /// }
    /// let mut g = Generator::new(|co| async move { co.yield_from(numbers()).await });
    /// g.resume().unwrap();
    /// assert!(g.yielding_from().unwrap().name().ends_with("numbers"));
    /// ```
    pub fn name(&self) -> &'static str {
        name_of(&self.slot)
    }

    /// What this sub-generator is running with `yield_from` in turn, as
    /// [`Generator::yielding_from`] says it.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::coro::Generator;
    ///
    /// fn plain() -> Generator<u8> {
    ///     Generator::new(|co| async move { co.yield_(7).await.map(|_| ()) })
    /// }
    /// let mut g = Generator::new(|co| async move { co.yield_from(plain()).await });
    /// g.resume().unwrap();
    /// assert!(g.yielding_from().unwrap().yielding_from().is_none());
    /// ```
    #[doc(alias = "gi_yieldfrom")]
    pub fn yielding_from(&self) -> Option<SubGenerator<Y, S>> {
        delegate_of(&self.slot)
    }
}

impl<Y, S> fmt::Debug for SubGenerator<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubGenerator")
            .field("name", &self.name())
            .field("yielding_from", &self.yielding_from())
            .finish()
    }
}

fn name_of<Y, S>(slot: &Slot<Y, S>) -> &'static str {
    let mut name = slot.name;
    while let Some(outer) = name.strip_suffix("::{{closure}}") {
        name = outer;
    }
    name
}

fn delegate_of<Y, S>(slot: &Slot<Y, S>) -> Option<SubGenerator<Y, S>> {
    slot.delegate.borrow().as_ref().map(|sub| SubGenerator { slot: Rc::clone(sub) })
}
