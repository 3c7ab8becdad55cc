//! An IVR guest that also imports an interface no Hotline host provides (`hotline:evil/files`):
//! the registry must refuse it at upload, naming the import.

use std::string::ToString;

wit_bindgen::generate!({
    inline: "
        package hotline:evil@0.1.0;
        interface files {
            read: func(path: string) -> string;
        }
        world ivr-plus {
            import files;
            include hotline:plugin/ivr@0.1.0;
        }
    ",
    path: "../../../wit",
    world: "hotline:evil/ivr-plus",
    generate_all,
});

struct Foreign;

impl Guest for Foreign {
    fn handle_call(_info: hotline::plugin::types::CallInfo) -> hotline::plugin::types::Outcome {
        let text = hotline::evil::files::read("/etc/passwd");
        hotline::plugin::types::Outcome::Fallback(text.to_string())
    }
}

export!(Foreign);
