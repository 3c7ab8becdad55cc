//! The attributes that turn a plain function or impl into a Hotline plugin's export:
//! `#[hotline::ivr]` on `fn NAME(call: &mut Call) -> R` and `#[hotline::agent_script]` on
//! `impl AgentScript for TYPE`. They only find the name and hand it to the SDK's
//! `macro_rules!` glue (which knows its own crate through `$crate`); they never rewrite the
//! item, so the code a plugin author reads is the code that runs.
//!
//! Written without `syn` on purpose: a plugin build compiles this crate, and a token scan is
//! all the job needs.

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// Marks the function that runs the IVR for each call.
///
/// ```ignore
/// #[hotline::ivr]
/// fn handle(call: &mut hotline::Call) -> hotline::Result<hotline::Outcome> {
///     call.play("welcome")?;
///     Ok(hotline::Outcome::SelfServed)
/// }
/// ```
#[proc_macro_attribute]
pub fn ivr(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(err) = no_arguments(attr, "ivr") {
        return err;
    }
    match fn_name(item.clone()) {
        Some(name) => with_glue(item, "__export_ivr", name),
        None => compile_error(
            "#[hotline::ivr] goes on a function: `fn handle(call: &mut hotline::Call) -> hotline::Result<hotline::Outcome>`",
            Span::call_site(),
        ),
    }
}

/// Marks the `impl hotline::agent::AgentScript for TYPE` block that renders the agent's
/// screen and handles form submissions.
#[proc_macro_attribute]
pub fn agent_script(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(err) = no_arguments(attr, "agent_script") {
        return err;
    }
    match impl_type(item.clone()) {
        Some(name) => with_glue(item, "__export_agent_script", name),
        None => compile_error(
            "#[hotline::agent_script] goes on `impl hotline::agent::AgentScript for YourType { ... }`",
            Span::call_site(),
        ),
    }
}

fn no_arguments(attr: TokenStream, which: &str) -> Option<TokenStream> {
    let first = attr.into_iter().next()?;
    Some(compile_error(
        &format!("#[hotline::{which}] takes no arguments"),
        first.span(),
    ))
}

/// The identifier after the first `fn` at the item's top level.
fn fn_name(item: TokenStream) -> Option<Ident> {
    let mut tokens = item.into_iter();
    while let Some(token) = tokens.next() {
        if let TokenTree::Ident(ident) = &token {
            if ident.to_string() == "fn" {
                return match tokens.next() {
                    Some(TokenTree::Ident(name)) => Some(name),
                    _ => None,
                };
            }
        }
    }
    None
}

/// The type name after `for` in `impl Trait for Type { ... }` (a plain name, no generics).
fn impl_type(item: TokenStream) -> Option<Ident> {
    let mut tokens = item.into_iter();
    let mut saw_impl = false;
    while let Some(token) = tokens.next() {
        if let TokenTree::Ident(ident) = &token {
            match ident.to_string().as_str() {
                "impl" => saw_impl = true,
                "for" if saw_impl => {
                    return match tokens.next() {
                        Some(TokenTree::Ident(name)) => Some(name),
                        _ => None,
                    };
                }
                _ => {}
            }
        }
    }
    None
}

/// `ITEM ::hotline::GLUE!(NAME);`
fn with_glue(item: TokenStream, glue: &str, name: Ident) -> TokenStream {
    let mut out = item;
    let span = Span::call_site();
    let call: Vec<TokenTree> = vec![
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("hotline", span)),
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new(glue, span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
        TokenTree::Group(Group::new(
            Delimiter::Parenthesis,
            TokenStream::from(TokenTree::Ident(name)),
        )),
        TokenTree::Punct(Punct::new(';', Spacing::Alone)),
    ];
    out.extend(call);
    out
}

fn compile_error(message: &str, span: Span) -> TokenStream {
    let mut literal = proc_macro::Literal::string(message);
    literal.set_span(span);
    let mut tokens: Vec<TokenTree> = vec![
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("core", span)),
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
        TokenTree::Group(Group::new(
            Delimiter::Parenthesis,
            TokenStream::from(TokenTree::Literal(literal)),
        )),
        TokenTree::Punct(Punct::new(';', Spacing::Alone)),
    ];
    for t in &mut tokens {
        t.set_span(span);
    }
    tokens.into_iter().collect()
}
