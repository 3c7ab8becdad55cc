//! A component of another world (it exports `greet`, not `handle-call`): the registry must
//! refuse it at upload as targeting no Hotline world.

use std::format;
use std::string::String;

wit_bindgen::generate!({
    inline: "
        package example:greeter@1.0.0;
        world greeter {
            export greet: func(name: string) -> string;
        }
    ",
    world: "greeter",
});

struct Greeter;

impl Guest for Greeter {
    fn greet(name: String) -> String {
        format!("hello {name}")
    }
}

export!(Greeter);
