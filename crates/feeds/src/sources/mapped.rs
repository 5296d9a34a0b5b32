pub struct Mapping;
